#!/usr/bin/env bash
# Runs the whole test suite from a clean checkout: installs what is missing,
# starts a throwaway PostgreSQL, builds the release and the ASan+UBSan
# presets, and runs every test in both (the integration suites on SQLite and
# on PostgreSQL); then builds the fuzz targets with clang and libFuzzer and
# runs each for a bounded time (tests/fuzz/CMakeLists.txt).
# Exits non-zero if any build or test fails.
#   tools/test.sh            release, asan and fuzz (what CI runs)
#   tools/test.sh release    one preset only
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/deps.sh

# Let clones in other directories reuse ccache entries (CI builds a fresh
# clone each time).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true

# A throwaway PostgreSQL 15 cluster on a free loopback port for the
# PostgreSQL runs of the integration suites; stopped and removed on exit.
source tools/throwaway_postgres.sh
start_throwaway_postgres -c fsync=off
export PSTRACK_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:${PGPORT}/postgres"
echo "=== pstrack: PostgreSQL for tests at 127.0.0.1:${PGPORT} ==="

presets=("$@")
if [ ${#presets[@]} -eq 0 ]; then presets=(release asan fuzz); fi

for preset in "${presets[@]}"; do
  echo "=== pstrack: ${preset} build ==="
  cmake --preset "$preset" -DPSTRACK_POSTGRES_TESTS=ON >/dev/null
  if [ "$preset" = fuzz ]; then
    # clang, libFuzzer, ASan+UBSan: only the fuzz targets and what they link.
    cmake --build --preset fuzz -j "$(nproc)" --target pstrack_fuzz_targets
  else
    cmake --build --preset "$preset" -j "$(nproc)"
  fi
  echo "=== pstrack: ${preset} tests ==="
  # ASan: leak checking stays on; gRPC's global state is freed at exit.
  # fuzz: each libFuzzer target mutates from its seeds for a bounded time.
  ctest --preset "$preset" -j "$(nproc)"
done
