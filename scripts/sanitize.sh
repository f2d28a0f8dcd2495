#!/usr/bin/env bash
# Builds and runs the whole suite under a sanitizer: `asan` (ASan + UBSan, build-asan/) or
# `tsan` (ThreadSanitizer, build-tsan/), with the presets of CMakePresets.json. The tests and
# the programs they start get the suppressions in tests/sanitizers/ (set by
# tests/CMakeLists.txt; each entry says why the finding is not celtrace's), and UBSan
# findings fail the test. Further arguments go to ctest (e.g. -R HostileInputs) instead of
# the sharded whole-suite run.
# Usage: scripts/sanitize.sh asan|tsan [CTEST_ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  asan|tsan) preset="$1"; shift ;;
  *) echo "usage: scripts/sanitize.sh asan|tsan [CTEST_ARGS...]" >&2; exit 2 ;;
esac
jobs="${CELTRACE_JOBS:-2}"
bash scripts/setup.sh
cmake --preset "$preset" >/dev/null
cmake --build "build-$preset" -j "$jobs"
# The options tests/CMakeLists.txt also sets, for the tests and every program they start
# (ctest's ENVIRONMENT property carries only one variable per preset there). OpenMP runs one
# thread under TSan: libgomp is not instrumented, so TSan cannot see its barriers and
# reports every read after a parallel FAISS search; FAISS's threading is not celtrace's code,
# and those ~10^5 suppressed reports per search test made the suite run for hours.
export LSAN_OPTIONS="suppressions=$PWD/tests/sanitizers/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export TSAN_OPTIONS="suppressions=$PWD/tests/sanitizers/tsan.supp:second_deadlock_stack=1:history_size=7"
# TSan runs over an instrumented build of Debian's oneTBB (scripts/tsan-tbb.sh): with the
# uninstrumented libtbb, TSan sees none of the scheduler's hand-offs and every task's
# accesses would be suppressed, unchecked, at a cost of minutes per index build.
if [ "$preset" = tsan ]; then
  export OMP_NUM_THREADS=1
  tbb_lib=$(bash scripts/tsan-tbb.sh "build-$preset/onetbb")
  export LD_LIBRARY_PATH="$tbb_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
# Instrumented code runs 3-20x slower (the asan preset is a Debug build, assertions on, at -O1
# as ASan's documentation advises for reasonable speed). With CTEST_ARGS,
# ctest runs what they select, one process per test.
if [ "$#" -gt 0 ]; then
  exec ctest --test-dir "build-$preset" --output-on-failure -j "$jobs" --timeout 2400 "$@"
fi
# The whole suite: the test binary in $jobs GoogleTest shards, one process each, so that a
# suite's shared fixture (a catalogue indexed by the instrumented celtrace-index) is built
# once per shard rather than once per test as under ctest; then the browser test.
logs="build-$preset/sanitize-logs"
rm -rf "$logs"
mkdir -p "$logs"
pids=()
for ((shard = 0; shard < jobs; shard++)); do
  (cd "build-$preset/tests" && GTEST_TOTAL_SHARDS="$jobs" GTEST_SHARD_INDEX="$shard" \
     ./celtrace_tests >"../sanitize-logs/shard-$shard.log" 2>&1) &
  pids+=("$!")
done
status=0
for ((shard = 0; shard < jobs; shard++)); do
  if wait "${pids[$shard]}"; then result=passed; else result="FAILED"; status=1; fi
  summary=$(grep -E '^\[  (PASSED|FAILED|SKIPPED) +\] [0-9]+ test' "$logs/shard-$shard.log" | tr '\n' ' ')
  echo "shard $shard: $result: $summary(log $logs/shard-$shard.log)"
done
for ((shard = 0; shard < jobs; shard++)); do
  grep -E '^\[  FAILED  \] [A-Za-z]|ThreadSanitizer|AddressSanitizer|LeakSanitizer|runtime error' \
    "$logs/shard-$shard.log" | sort -u | head -n 40 || true
done
ctest --test-dir "build-$preset" --output-on-failure --timeout 2400 -R report_browser_test ||
  status=1
exit "$status"
