#!/usr/bin/env bash
# One command for a newcomer on Debian 12: installs what is missing, builds
# pstrack, and starts the server on an embedded SQLite database in ./var with
# the reference agencies (Vietnam's provinces before and after 2025-07-01, a
# sample Quảng Ninh subtree) and a sample procedure catalog. Authentication
# is on: the first run creates an admin API key in var/admin.key (mode 0600)
# and the CLI commands below use it through $PSTRACK_API_KEY_FILE.
#   tools/run.sh [extra pstrack-server flags]
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/deps.sh
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target pstrack-server pstrack pstrack-admin pstrack-gen

# The first admin key (an operator's job; see docs/security.md). The server
# loads the reference agencies first, so the key is made once the schema
# exists: pstrack-admin migrates the database itself.
if [[ ! -s var/admin.key ]]; then
  mkdir -p var
  build/release/tools/pstrack-admin create-key --db=sqlite:var/pstrack.db --role=admin \
    --name="local admin ($(id -un)@$(hostname))" --out=var/admin.key
fi

LISTEN="${PSTRACK_LISTEN:-127.0.0.1:50051}"
HTTP_LISTEN="${PSTRACK_HTTP_LISTEN:-127.0.0.1:8080}"
cat <<MSG

pstrack-server is starting on ${LISTEN} (gRPC) and ${HTTP_LISTEN} (HTTP/JSON; database:
var/pstrack.db). In another terminal:
  export PSTRACK_API_KEY_FILE=$PWD/var/admin.key    # the admin key made on the first run
  build/release/tools/cli/pstrack whoami
  build/release/tools/cli/pstrack agency list --level province --as_of 2025-07-01
  build/release/tools/cli/pstrack agency resolve F24 --as_of 2025-07-01
  build/release/tools/cli/pstrack procedure list --agency P22.HALONG
  build/release/tools/cli/pstrack procedure get 1.001193 --json
  build/release/tools/cli/pstrack event send data/sample/events.csv
  build/release/tools/cli/pstrack dossier list --agency P22
  build/release/tools/cli/pstrack key create --name "Trung tâm PVHCC Quảng Ninh" --role centre --scope P22
  build/release/tools/cli/pstrack audit list
  curl -s -H "Authorization: Bearer \$(cat var/admin.key)" http://${HTTP_LISTEN}/v1/agencies/P22
Stop the server with Ctrl-C.

MSG
exec build/release/services/pstrack-server \
  --listen="${LISTEN}" \
  --http_listen="${HTTP_LISTEN}" \
  --data_dir=var \
  --agencies=data/agencies/vn_provinces.csv,data/sample/agencies_quang_ninh.csv \
  --procedures=data/sample/procedures.csv \
  "$@"
