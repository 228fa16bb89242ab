#!/usr/bin/env bash
# Runs pstrack-bench (docs/BENCHMARKS.md) with a throwaway PostgreSQL 15 on
# loopback for the PostgreSQL figures: durable settings (fsync on), stopped
# and removed on exit. Extra arguments go to pstrack-bench.
#   tools/bench.sh                                   the quick scale
#   tools/bench.sh --query_dossiers=1000000,10000000 the full scale
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/deps.sh
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target pstrack-bench pstrack-server

# Durable settings (fsync on), as in production.
source tools/throwaway_postgres.sh
start_throwaway_postgres

build/release/tools/bench/pstrack-bench --work="${PSTRACK_BENCH_DIR:-/tmp/pstrack-bench}" \
  --postgres="postgresql://postgres@127.0.0.1:${PGPORT}/postgres" "$@"
