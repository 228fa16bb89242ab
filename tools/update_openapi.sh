#!/usr/bin/env bash
# Rewrites docs/openapi.json from the protos (after a change to proto/):
# builds pstrack-server (release preset) and writes what it serves at
# /openapi.json. The test http_json_api fails while the two differ.
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
cmake --preset release >/dev/null
cmake --build --preset release --target pstrack-server -j "$(nproc)"
build/release/services/pstrack-server --print_openapi > docs/openapi.json
echo "docs/openapi.json rewritten"
