# Sourced by tools/test.sh and tools/bench.sh: starts a throwaway PostgreSQL
# 15 cluster on a free loopback port, as the postgres user when root (it
# refuses to run as root), and stops and removes it when the script exits.
#   start_throwaway_postgres [server options]   sets PGPORT
PGBIN=/usr/lib/postgresql/15/bin
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}
stop_throwaway_postgres() {
  as_pg "$PGBIN/pg_ctl -D $PGDIR/data -m fast stop" >/dev/null 2>&1 || true
  rm -rf "$PGDIR"
}
start_throwaway_postgres() {
  PGDIR=$(mktemp -d /tmp/pstrack-pg-XXXXXX)
  PGPORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  trap stop_throwaway_postgres EXIT
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$PGDIR"; fi
  as_pg "$PGBIN/initdb -D $PGDIR/data -A trust -U postgres" >/dev/null
  as_pg "$PGBIN/pg_ctl -D $PGDIR/data -l $PGDIR/log -o '-k $PGDIR -h 127.0.0.1 -p $PGPORT $*' -w start" >/dev/null
}
