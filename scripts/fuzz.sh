#!/usr/bin/env bash
# Runs the libFuzzer targets of tests/fuzz (docs/fuzzing.md) for longer than their ctest runs.
#
#   scripts/fuzz.sh [TARGET|all] [SECONDS]
#
#   TARGET   a target name (jcs, sd_jwt, roles_http, ...: tests/fuzz/<name>_fuzz.cpp) or "all"
#            (the default: every target, one after the other)
#   SECONDS  how long each target runs (default 60)
#
# Configures build-clang if it has no cache yet (clang, RelWithDebInfo at -O1, ASan + UBSan,
# MEDALLION_FUZZ=ON: the same configure as scripts/test.sh's sanitizer stage) and builds the
# targets asked for; every build step holds /tmp/medallion-build.lock (flock). Each target then
# runs with 2 jobs on 2 workers (libFuzzer -jobs/-workers; MEDALLION_FUZZ_JOBS to change) over a
# work corpus outside the tree, build-clang/fuzz-work/<name>/corpus, which starts from the
# in-tree seeds tests/fuzz/corpus/<name> and grows from run to run; the dictionary
# tests/fuzz/dict/<name>.dict is used when present. The jobs' logs are fuzz-work/<name>/fuzz-*.log.
#
# Prints, per target, the executions run (libFuzzer's stat::number_of_executed_units, summed over
# the jobs). On a crash, leak, timeout or out-of-memory it prints where the reproducer is
# (build-clang/fuzz-work/<name>/artifacts/) and exits 1 after the remaining targets. Replay one with
#   build-clang/tests/fuzz/fuzz_<name> <reproducer>
# and turn it into a seed and a unit test as docs/fuzzing.md says.
#
# Environment: MEDALLION_FUZZ_BUILD (default build-clang), MEDALLION_FUZZ_JOBS (default 2).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MEDALLION_FUZZ_BUILD:-$root/build-clang}
target=${1:-all}
seconds=${2:-60}
jobs=${MEDALLION_FUZZ_JOBS:-2}
lock=/tmp/medallion-build.lock

if [[ $target == all ]]; then
  names=()
  for f in "$root"/tests/fuzz/*_fuzz.cpp; do
    n=$(basename "$f")
    names+=("${n%_fuzz.cpp}")
  done
else
  [[ -f $root/tests/fuzz/${target}_fuzz.cpp ]] || { echo "fuzz.sh: no target '$target'" >&2; exit 2; }
  names=("$target")
fi

if [[ ! -f $build/CMakeCache.txt ]]; then
  flock "$lock" cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DMEDALLION_SANITIZE=ON \
    -DMEDALLION_FUZZ=ON -DMEDALLION_BUILD_BENCH=OFF
fi
build_targets=()
for n in "${names[@]}"; do build_targets+=("fuzz_$n"); done
flock "$lock" cmake --build "$build" -j2 --target "${build_targets[@]}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=0
for n in "${names[@]}"; do
  work=$build/fuzz-work/$n
  mkdir -p "$work/corpus" "$work/artifacts"
  rm -f "$work"/fuzz-*.log
  before=$(ls "$work/artifacts" | wc -l)
  args=(-max_total_time="$seconds" -jobs="$jobs" -workers="$jobs" -print_final_stats=1 -timeout=30
        -rss_limit_mb=2560 -artifact_prefix="$work/artifacts/")
  [[ -f $root/tests/fuzz/dict/$n.dict ]] && args+=(-dict="$root/tests/fuzz/dict/$n.dict")
  echo "== $n: $seconds s, $jobs jobs"
  # The jobs write fuzz-<i>.log into the current directory; temporary files stay in the work dir.
  (cd "$work" && TMPDIR=$work "$build/tests/fuzz/fuzz_$n" "${args[@]}" "$work/corpus" \
     "$root/tests/fuzz/corpus/$n" >/dev/null 2>&1) || true
  execs=$(cat "$work"/fuzz-*.log 2>/dev/null | sed -n 's/^stat::number_of_executed_units: *//p' |
          awk '{s += $1} END {print s + 0}')
  units=$(ls "$work/corpus" | wc -l)
  echo "   executions: $execs   work corpus: $units units"
  after=$(ls "$work/artifacts" | wc -l)
  if (( after > before )) || grep -qE '^==[0-9]+==ERROR|^SUMMARY: |deadly signal' "$work"/fuzz-*.log 2>/dev/null; then
    failed=1
    echo "   FAILED: reproducers in $work/artifacts/:" >&2
    ls -t "$work/artifacts" | head -n 5 | sed "s|^|     $work/artifacts/|" >&2
    grep -hE '^(==[0-9]+==ERROR|SUMMARY:)' "$work"/fuzz-*.log | sort -u | head -n 5 >&2 || true
  fi
done
exit $failed
