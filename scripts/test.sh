#!/usr/bin/env bash
# The full test suite: installs what is missing, builds, and runs every test with ctest, in two
# stages (README "Tests"):
#
#   1. GCC 12 (build/): every suite — unit, CLI, interop, browser, end to end — except the
#      opt-in soak runs (label soak).
#   2. clang 14 with AddressSanitizer + UBSan and libFuzzer coverage (build-clang/): the whole
#      project compiles warning-free with the second compiler; then every Catch2 suite and the C
#      ABI test (label unit) run with leak detection on, and every fuzz target runs its
#      regression (label fuzz: its in-tree corpus plus a fixed number of executions). The
#      process-level suites (CLI, interop, browser, e2e) are not run again here: they exercise
#      the same code as the unit suites through the binary, and would double the run time.
#      MEDALLION_CLANG_STAGE=0 skips this stage.
#
# Long soak and fuzz runs are opt-in: MEDALLION_SOAK=1 scripts/test.sh includes them (the soak
# tests, and fuzz targets for MEDALLION_FUZZ_SECONDS each instead of the regression).
# MEDALLION_SANITIZE=1 instead runs every test of stage 1 against a GCC ASan + UBSan build.
#
# PostgreSQL (the ledger's second backend, docs/ledger.md §Storage backends): a throwaway cluster
# (tests/pg/pg_cluster.sh: a temporary data directory, a unix socket only) is started before
# stage 1, its URL exported as MEDALLION_PG_URL for both stages, and removed on exit.
# MEDALLION_NO_POSTGRES=1 runs without it: the PostgreSQL runs of the ledger suites skip.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
JOBS="${MEDALLION_JOBS:-$(nproc)}"
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
if [ "${MEDALLION_NO_POSTGRES:-0}" != "1" ] && [ -z "${MEDALLION_PG_URL:-}" ]; then
  PG_STATE="$(mktemp -d "${TMPDIR:-/tmp}/medallion-pg-state.XXXXXX")"
  PG_CLUSTER="$PWD/tests/pg/pg_cluster.sh"
  trap 'bash "$PG_CLUSTER" stop "$PG_STATE"; rm -rf "$PG_STATE"' EXIT
  MEDALLION_PG_URL="$(bash "$PG_CLUSTER" start "$PG_STATE")"
  export MEDALLION_PG_URL
  echo "== PostgreSQL for the ledger suites: $MEDALLION_PG_URL"
fi
LABEL_ARGS=(-LE soak)
if [ "${MEDALLION_SOAK:-0}" = "1" ]; then LABEL_ARGS=(); fi
status=0
echo "== stage 1: GCC, every suite ($BUILD_DIR)"
(cd "$BUILD_DIR" && ctest --output-on-failure -j"$JOBS" "${LABEL_ARGS[@]}" "$@") || status=$?

if [ "${MEDALLION_CLANG_STAGE:-1}" = "1" ] && [ "${MEDALLION_SANITIZE:-0}" != "1" ]; then
  echo "== stage 2: clang 14, ASan + UBSan + LeakSanitizer, unit suites and fuzz regression (build-clang)"
  MEDALLION_BUILD_DIR=build-clang bash scripts/build.sh \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
    -DMEDALLION_SANITIZE=ON -DMEDALLION_FUZZ=ON -DMEDALLION_BUILD_BENCH=OFF
  supp="$PWD/tests/sanitizer/lsan.supp"
  lsan="detect_leaks=1"
  if [ -f "$supp" ]; then lsan="detect_leaks=1:suppressions=$supp"; fi
  (cd build-clang &&
    ASAN_OPTIONS="$lsan:abort_on_error=1" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    ctest --output-on-failure -j"$JOBS" -L "unit|fuzz") || status=$?
fi
exit "$status"
