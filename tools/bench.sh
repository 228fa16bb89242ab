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

PGBIN=/usr/lib/postgresql/15/bin
PGDIR=$(mktemp -d /tmp/pstrack-bench-pg-XXXXXX)
PGPORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}
stop_postgres() {
  as_pg "$PGBIN/pg_ctl -D $PGDIR/data -m fast stop" >/dev/null 2>&1 || true
  rm -rf "$PGDIR"
}
trap stop_postgres EXIT
if [ "$(id -u)" -eq 0 ]; then chown postgres "$PGDIR"; fi
as_pg "$PGBIN/initdb -D $PGDIR/data -A trust -U postgres" >/dev/null
as_pg "$PGBIN/pg_ctl -D $PGDIR/data -l $PGDIR/log -o '-k $PGDIR -h 127.0.0.1 -p $PGPORT' -w start" >/dev/null

build/release/tools/bench/pstrack-bench --work="${PSTRACK_BENCH_DIR:-/tmp/pstrack-bench}" \
  --postgres="postgresql://postgres@127.0.0.1:${PGPORT}/postgres" "$@"
