#!/usr/bin/env bash
# The full test suite: installs what is missing, builds, and runs every test with ctest.
# Long soak and fuzz runs are opt-in: MEDALLION_SOAK=1 scripts/test.sh includes them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
BUILD_DIR="${MEDALLION_BUILD_DIR:-build}"
LABEL_ARGS=(-LE soak)
if [ "${MEDALLION_SOAK:-0}" = "1" ]; then LABEL_ARGS=(); fi
cd "$BUILD_DIR"
ctest --output-on-failure -j"${MEDALLION_JOBS:-$(nproc)}" "${LABEL_ARGS[@]}" "$@"
