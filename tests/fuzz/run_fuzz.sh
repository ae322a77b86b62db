#!/usr/bin/env bash
# One libFuzzer target as a ctest (tests/fuzz/CMakeLists.txt, label fuzz):
#   run_fuzz.sh FUZZER CORPUS_DIR DICT RUNS
# Runs every file of the in-tree seed corpus CORPUS_DIR (a regression run), then RUNS new
# executions from seed 1. New units go to an empty temporary directory given as the FIRST corpus
# directory, so the tree is never written; crash reproducers also go there (-artifact_prefix),
# and on a failure that directory is kept and named. DICT is used when the file exists.
# MEDALLION_SOAK=1: run for MEDALLION_FUZZ_SECONDS (default 300) instead of RUNS executions.
set -euo pipefail

fuzzer=$1 corpus=$2 dict=$3 runs=$4
work=$(mktemp -d "${TMPDIR:-/tmp}/medallion-fuzz-$(basename "$fuzzer").XXXXXX")
mkdir -p "$work/new"

args=(-seed=1 -timeout=30 -rss_limit_mb=2560 -print_final_stats=1 "-artifact_prefix=$work/")
[[ -f $dict ]] && args+=("-dict=$dict")
if [[ ${MEDALLION_SOAK:-0} == 1 ]]; then
  args+=("-max_total_time=${MEDALLION_FUZZ_SECONDS:-300}")
else
  args+=("-runs=$runs")
fi
dirs=("$work/new")
[[ -d $corpus ]] && dirs+=("$corpus")

# The fuzzer's temporary files (the bridge's wallet, the roles' databases) stay under $work too.
if TMPDIR=$work "$fuzzer" "${args[@]}" "${dirs[@]}" >"$work/log" 2>&1; then
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)' "$work/log" || true
  rm -rf "$work"
  exit 0
fi
tail -n 60 "$work/log"
echo "run_fuzz.sh: $(basename "$fuzzer") failed; log, new units and reproducers kept in $work" >&2
ls "$work" | grep -E '^(crash|leak|timeout|oom|slow-unit)-' | sed "s|^|  reproducer: $work/|" >&2 || true
exit 1
