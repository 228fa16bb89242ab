#!/usr/bin/env bash
# Installs the Debian 12 packages pstrack needs to build, run and test, if any
# is missing. Safe to run again: it does nothing when all are present.
set -euo pipefail

PACKAGES=(
  build-essential cmake ccache pkg-config
  libgrpc++-dev libgrpc-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto
  libabsl-dev libsoci-dev libboost-dev libsqlite3-dev libpq-dev libssl-dev openssl sqlite3 postgresql libtcmalloc-minimal4
  libgtest-dev libgmock-dev libbenchmark-dev
  # grpc_tools.protoc (the e2e tests) imports pkg_resources; python3-grpc-tools does not depend on it
  python3 python3-grpcio python3-grpc-tools python3-pkg-resources nginx
  # the deploy kit's checks: systemd-analyze, the manifests parsed as YAML
  systemd python3-yaml
  # the fuzz preset: clang with libFuzzer and the sanitizer runtimes
  clang libclang-rt-14-dev
  # the HTTP/JSON API's clients in the tests (curl, Python requests, PHP) and
  # the check of the Prometheus exposition (promtool)
  curl python3-requests php-cli php-curl prometheus
  # XLSX exports (dashboard and CLI)
  libxlsxwriter-dev
  # the dashboard's test in a real browser, and reading its XLSX back
  chromium chromium-driver python3-selenium python3-openpyxl
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "pstrack: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
