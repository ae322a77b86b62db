#!/usr/bin/env bash
# Runs the C ABI test (bridge_test, plain C11) against a running container (bridge_fixture),
# optionally under valgrind (memcheck: invalid accesses, uninitialised reads and definite leaks
# fail the run). Usage: run_bridge_test.sh <bridge_fixture> <bridge_test> [valgrind]
set -euo pipefail
FIXTURE="${1:?fixture}"
TEST="${2:?test}"
MODE="${3:-}"
WORK="$(mktemp -d)"
coproc FIX { "$FIXTURE"; }
FIX_PID=$FIX_PID
cleanup() {
  exec {FIX[1]}>&- 2>/dev/null || true
  kill "$FIX_PID" 2>/dev/null || true
  wait "$FIX_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
read -r -t 30 LINE <&"${FIX[0]}"
get() { node -e 'console.log(JSON.parse(process.argv[1])[process.argv[2]])' "$LINE" "$1"; }
ARGS=("$WORK" "$(get pairing_uri)" "$(get wrong_secret_uri)" "$(get expiring_uri)" "$(get past_uri)")
export MEDALLION_ALLOW_TEST_KDF=1
if [[ "$MODE" == valgrind ]]; then
  valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --show-leak-kinds=definite,indirect "$TEST" "${ARGS[@]}"
else
  "$TEST" "${ARGS[@]}"
fi
