#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs `medallion demo` on embedded
# defaults. Extra arguments go to `medallion demo` (e.g. --out DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh --no-npm
bash scripts/build.sh -DMEDALLION_BUILD_TESTS=OFF -DMEDALLION_BUILD_BENCH=OFF
exec "${MEDALLION_BUILD_DIR:-build}/cli/medallion" demo "$@"
