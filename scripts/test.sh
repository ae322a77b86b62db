#!/usr/bin/env bash
# The full test suite: installs what is missing, builds, and runs every test with ctest.
# Long soak and fuzz runs are opt-in: MEDALLION_SOAK=1 scripts/test.sh includes them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
# MEDALLION_SANITIZE=1: an AddressSanitizer + UBSan build in build-sanitize (or
# $MEDALLION_BUILD_DIR), every test run against it (README "Sanitizers").
if [ "${MEDALLION_SANITIZE:-0}" = "1" ]; then
  export MEDALLION_BUILD_DIR="${MEDALLION_BUILD_DIR:-build-sanitize}"
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
  bash scripts/build.sh -DMEDALLION_SANITIZE=ON -DMEDALLION_BUILD_BENCH=OFF
else
  bash scripts/build.sh
fi
BUILD_DIR="${MEDALLION_BUILD_DIR:-build}"
LABEL_ARGS=(-LE soak)
if [ "${MEDALLION_SOAK:-0}" = "1" ]; then LABEL_ARGS=(); fi
cd "$BUILD_DIR"
ctest --output-on-failure -j"${MEDALLION_JOBS:-$(nproc)}" "${LABEL_ARGS[@]}" "$@"
