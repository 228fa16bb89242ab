#!/usr/bin/env bash
# The dependency rule of docs/architecture.md, checked on every #include:
# a folder of services/ includes only from itself and the folders before it
# in LAYERS; storage/ implements the use cases' interfaces and includes
# nothing of the wiring; only the wiring (server, admin), tools/ and tests/
# include storage/. Prints each include that breaks the rule; fails if any.
# Run by ctest (tests "layering" and "layering_catches_violations").
#   tools/check_layers.sh                 checks this tree
#   tools/check_layers.sh --self-test     shows that it catches violations
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ${1:-} == --self-test ]]; then
  # A copy of the tree with one violation of each kind must fail, naming both.
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  cp -r services storage tools "$tmp/"
  echo '#include "services/metrics/metrics.h"' >> "$tmp/services/figures/report.cc"
  echo '#include "storage/store.h"' >> "$tmp/services/filings/rederive.cc"
  if out=$(bash "$tmp/tools/check_layers.sh" 2>&1); then echo "$out"; echo "self-test: violations not caught"; exit 1; fi
  grep -q 'figures/report.cc: includes services/metrics/metrics.h' <<<"$out" || { echo "$out"; exit 1; }
  grep -q 'filings/rederive.cc: includes storage/store.h' <<<"$out" || { echo "$out"; exit 1; }
  echo "self-test: both violations caught"
  exit 0
fi

LAYERS=(common calendar agencies catalog security lifecycle figures filings metrics reports api http admin server)
declare -A rank
for i in "${!LAYERS[@]}"; do rank[${LAYERS[$i]}]=$i; done
# storage/ sits between the use cases and the wiring.
storage_rank=${rank[reports]}

bad=0
while IFS= read -r -d '' file; do
  dir=${file#./}
  top=${dir%%/*}
  if [[ $top == services ]]; then
    folder=${dir#services/}; folder=${folder%%/*}
    [[ -n ${rank[$folder]+x} ]] || { echo "$file: folder services/$folder is not in LAYERS"; bad=1; continue; }
    own=${rank[$folder]}
  else
    own=$storage_rank
  fi
  while IFS= read -r line; do
    inc=${line#*\"}; inc=${inc%\"*}
    case $inc in
      services/*)
        target=${inc#services/}; target=${target%%/*}
        if [[ -z ${rank[$target]+x} ]]; then
          echo "$file: includes $inc (folder not in LAYERS)"; bad=1
        elif (( rank[$target] > own )); then
          echo "$file: includes $inc (services/$target comes after its own folder)"; bad=1
        fi ;;
      storage/*)
        if [[ $top == services && $folder != server && $folder != admin ]]; then
          echo "$file: includes $inc (only the wiring includes storage/)"; bad=1
        fi ;;
    esac
  done < <(grep -h '^#include "' "$file" || true)
done < <(find ./services ./storage \( -name '*.h' -o -name '*.cc' \) -print0)

if (( bad )); then
  echo "layering: the includes above break the dependency rule (docs/architecture.md)"
  exit 1
fi
echo "layering: every include follows the dependency rule"
