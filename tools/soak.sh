#!/usr/bin/env bash
# Soak: mixed load through nginx to two pstrack-server replicas on a
# throwaway PostgreSQL (tests/e2e/soak_test.py says what and what is checked).
#   tools/soak.sh [--minutes N]      default 30; CI runs 3 (ctest soak_postgresql_nginx)
# Builds the release preset first if needed. Prints the figures and exits
# non-zero when a check fails.
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=30
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) MINUTES="$2"; shift 2 ;;
    --minutes=*) MINUTES="${1#*=}"; shift ;;
    *) echo "usage: tools/soak.sh [--minutes N]" >&2; exit 2 ;;
  esac
done
cmake --preset release >/dev/null
cmake --build --preset release --target pstrack-server pstrack pstrack-admin >/dev/null
source tools/throwaway_postgres.sh
start_throwaway_postgres
export PSTRACK_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:${PGPORT}/postgres"
/usr/bin/python3 tests/e2e/soak_test.py --minutes "$MINUTES" \
  --server-bin build/release/services/pstrack-server --cli-bin build/release/tools/cli/pstrack \
  --admin-bin build/release/tools/pstrack-admin --source-dir "$PWD"
