#!/usr/bin/env bash
# Configures and builds Medallion into ./build (or $MEDALLION_BUILD_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${MEDALLION_BUILD_DIR:-build}"
JOBS="${MEDALLION_JOBS:-$(nproc)}"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="${MEDALLION_BUILD_TYPE:-RelWithDebInfo}" "$@" >/dev/null
cmake --build "$BUILD_DIR" -j"$JOBS" 2>&1 | grep -Ev '^\[ *[0-9]+%\] (Building|Linking|Built|Generating|Precompiling)' || true
test "${PIPESTATUS[0]}" -eq 0
