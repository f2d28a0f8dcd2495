#!/usr/bin/env bash
# Builds and runs the whole suite under a sanitizer: `asan` (ASan + UBSan, build-asan/) or
# `tsan` (ThreadSanitizer, build-tsan/), with the presets of CMakePresets.json. The tests and
# the programs they start get the suppressions in tests/sanitizers/ (set by
# tests/CMakeLists.txt; each entry says why the finding is not celtrace's), and UBSan
# findings fail the test. Further arguments go to ctest (e.g. -R HostileInputs).
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
if [ "$preset" = tsan ]; then export OMP_NUM_THREADS=1; fi
# Instrumented code runs several times slower (the asan preset is a Debug build); the longest
# tests took 1,140 s under asan on a loaded machine, against the default build's 600 s.
ctest --test-dir "build-$preset" --output-on-failure -j "$jobs" --timeout 2400 "$@"
