#!/usr/bin/env bash
# Opt-in (not part of ctest): runs the end-to-end demo test (tests/e2e/demo_test.sh, ctest
# e2e:demo) N times in a row and stops at the first failure, printing how many runs passed in a
# row and the failing run's output. A flaky step (a race, an id that looks like an option, a
# port) shows up here long before it shows up in CI.
# Usage: demo_repeat.sh [N (default 100)] [path-to-medallion (default build/cli/medallion)]
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
N="${1:-100}"
M="${2:-$HERE/../../build/cli/medallion}"
[[ "$N" =~ ^[1-9][0-9]*$ ]] || { echo "usage: demo_repeat.sh [N] [path-to-medallion]" >&2; exit 2; }
[[ -x "$M" ]] || { echo "demo_repeat.sh: no medallion at $M (build it, or give its path)" >&2; exit 2; }
started=$SECONDS
for i in $(seq 1 "$N"); do
  if ! out="$(bash "$HERE/demo_test.sh" "$M" 2>&1)"; then
    echo "$out" | grep -v "^ok " | tail -40
    echo "e2e:demo FAILED on run $i; $((i - 1)) run(s) in a row passed before it"
    exit 1
  fi
  echo "run $i/$N: $(echo "$out" | tail -1)"
done
echo "e2e:demo passed $N times in a row ($((SECONDS - started)) s)"
