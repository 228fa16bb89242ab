#!/usr/bin/env bash
# What each part of the write path costs: runs pstrack-bench against a
# server built with -DPSTRACK_CEILINGS=ON (build/ceilings; never deployed),
# once as it is and once with each measurement switch of
# services/common/ceilings.h, rounds interleaved because the machine is
# noisy. Each rate is printed beside the baseline of its own run.
#   tools/bench_ceilings.sh [--rounds=2] [--seconds=4] [--ingest_dossiers=20000] [--no_postgres]
# docs/BENCHMARKS.md ("Ceilings") has the figures and what they mean.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=2 SECONDS_PER_POINT=4 INGEST=20000 POSTGRES=1
for arg in "$@"; do
  case "$arg" in
    --rounds=*) ROUNDS="${arg#*=}" ;;
    --seconds=*) SECONDS_PER_POINT="${arg#*=}" ;;
    --ingest_dossiers=*) INGEST="${arg#*=}" ;;
    --no_postgres) POSTGRES=0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

bash tools/deps.sh
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target pstrack-bench
# Only services/common/ceilings.cc differs from the release objects (ccache).
cmake -S . -B build/ceilings -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPSTRACK_WERROR=ON -DPSTRACK_CEILINGS=ON >/dev/null
cmake --build build/ceilings -j "$(nproc)" --target pstrack-server

BENCH=build/release/tools/bench/pstrack-bench
SERVER="$PWD/build/ceilings/services/pstrack-server"
WORK=$(mktemp -d /tmp/pstrack-ceilings-XXXXXX)
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT

# One bench run with PSTRACK_CEILING=$1 on a fresh database; prints the lines
# matching $2. (The bench exits 1 when a target is missed, as it is here.)
run() {
  local ceiling="$1" pattern="$2"
  shift 2
  rm -rf "$WORK/run"
  PSTRACK_CEILING="$ceiling" "$BENCH" --work="$WORK/run" --server_bin="$SERVER" "$@" >"$WORK/out" 2>&1 || true
  if ! grep -E "$pattern" "$WORK/out" | sed -E "s/^ +/  ${ceiling:-as shipped}: /"; then
    echo "pstrack-bench failed (PSTRACK_CEILING=$ceiling):" >&2
    tail -5 "$WORK/out" >&2
    exit 1
  fi
}

echo "unary, 64 clients (RecordEvent events/s | the empty RPC in the same run | ratio)"
for round in $(seq "$ROUNDS"); do
  echo " round $round"
  for ceiling in "" no_write no_write,cached_auth audit_only no_durable_wait no_aggregates \
      no_aggregates,no_durable_wait; do
    run "$ceiling" "64 clients: events/s" --only=unary --clients=64 --seconds="$SECONDS_PER_POINT"
  done
done

PG_ARGS=()
if [ "$POSTGRES" = 1 ]; then
  source tools/throwaway_postgres.sh
  start_throwaway_postgres  # sets its own EXIT trap: keep ours too
  trap 'stop_throwaway_postgres; cleanup' EXIT
  PG_ARGS=(--postgres="postgresql://postgres@127.0.0.1:${PGPORT}/postgres")
fi
echo "ingestion, $INGEST dossiers (events/s | raw insert rows/s in the same run | ratio)"
for round in $(seq "$ROUNDS"); do
  echo " round $round"
  for ceiling in "" no_aggregates; do
    run "$ceiling" "RecordEvents .*events/s|StreamEvents events/s" --only=ingest --ingest_dossiers="$INGEST" \
      "${PG_ARGS[@]}"
  done
done
