#!/usr/bin/env bash
# Runs clang-tidy (.clang-tidy: the bug-prone checks and a 120-line function-size limit) over
# Medallion's production sources, using the compile database of a configured build
# (build/compile_commands.json, or $MEDALLION_BUILD_DIR). Exits non-zero if any check the
# config makes an error fails — a function over 120 lines in uma/, http/, roles/, cli/ or
# mobile-bridge/, or a bug-prone finding anywhere.
# Usage: scripts/tidy.sh [file.cpp ...]   (default: every production .cpp)
# Long: about a minute per 10 files on 2 cores, so ctest does not run it; run it before a commit
# that touches uma/, http/, roles/, cli/ or mobile-bridge/.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${MEDALLION_BUILD_DIR:-build}"
TIDY="$(command -v clang-tidy || command -v clang-tidy-14 || true)"
[ -n "$TIDY" ] || { echo "tidy.sh: clang-tidy is not installed (apt-get install clang-tidy)" >&2; exit 2; }
[ -f "$BUILD_DIR/compile_commands.json" ] || { echo "tidy.sh: no $BUILD_DIR/compile_commands.json (run scripts/build.sh)" >&2; exit 2; }
if [ "$#" -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(git ls-files '*.cpp' | grep -Ev '^(tests|bench)/')
fi
jobs="${MEDALLION_JOBS:-$(nproc)}"
# GCC-only flags in the compile database are dropped for clang.
printf '%s\n' "${files[@]}" | xargs -P "$jobs" -n 4 "$TIDY" -p "$BUILD_DIR" --quiet \
  --extra-arg=-Wno-unknown-warning-option --extra-arg=-Wno-unused-command-line-argument 2>/dev/null |
  grep -E 'warning:|error:' | sort -u > "${TMPDIR:-/tmp}/medallion-tidy.$$" || true
status=0
if grep -q 'error:' "${TMPDIR:-/tmp}/medallion-tidy.$$"; then status=1; fi
cat "${TMPDIR:-/tmp}/medallion-tidy.$$"
echo "tidy: ${#files[@]} files, $(grep -c 'warning:' "${TMPDIR:-/tmp}/medallion-tidy.$$" || true) warnings, $(grep -c 'error:' "${TMPDIR:-/tmp}/medallion-tidy.$$" || true) errors"
rm -f "${TMPDIR:-/tmp}/medallion-tidy.$$"
exit $status
