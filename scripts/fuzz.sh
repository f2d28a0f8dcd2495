#!/usr/bin/env bash
# Short coverage-guided runs of the three fuzz targets (fuzz/fuzz_targets.h) with libFuzzer
# (clang, ASan + UBSan, preset `fuzz`): installs clang and its runtime if missing, builds
# only the fuzz executables and the libraries they link into build-fuzz/, writes the suite's
# seeds (tests/fuzz_targets_test.cpp, from the default build), then runs each target for
# SECONDS (default 30) on a fresh corpus grown from them. Fails on any crash, oracle
# violation (trap), UBSan finding, leak, timeout (20 s per input) or RSS above 4 GiB; the
# crashing input is kept in build-fuzz/artifacts/. Prints runs, exec/s and corpus size.
# CELTRACE_FUZZ_SEED=N fixes libFuzzer's random seed (CI does, so that its short run explores
# the same inputs each time; long local runs leave it random).
# Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
jobs="${CELTRACE_JOBS:-2}"
targets=(sniff_decode_hash archive_walker index_loader)

bash scripts/setup.sh clang libclang-rt-14-dev
cmake --preset fuzz >/dev/null
cmake --build build-fuzz -j "$jobs" --target "${targets[@]/%/_fuzzer}"

# The seeds the suite replays, written by the default build's test binary.
if [ ! -f build/build.ninja ]; then cmake --preset default >/dev/null; fi
cmake --build build -j "$jobs" --target celtrace_tests
rm -rf build-fuzz/seeds build-fuzz/corpus build-fuzz/artifacts build-fuzz/logs
mkdir -p build-fuzz/corpus build-fuzz/artifacts build-fuzz/logs
CELTRACE_FUZZ_CORPUS=build-fuzz/seeds build/tests/celtrace_tests --gtest_filter='FuzzTargets.*' \
  >build-fuzz/logs/seeds.log 2>&1 || { cat build-fuzz/logs/seeds.log >&2; exit 1; }

export LSAN_OPTIONS="suppressions=$PWD/tests/sanitizers/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
failed=()
printf '%-18s %10s %8s %8s %14s %9s  %s\n' target runs exec/s cov corpus "peak RSS" result
for target in "${targets[@]}"; do
  mkdir -p "build-fuzz/corpus/$target"
  log="build-fuzz/logs/$target.log"
  status=0
  "build-fuzz/fuzz/${target}_fuzzer" -max_total_time="$seconds" -rss_limit_mb=4096 \
    -timeout=20 -print_final_stats=1 -artifact_prefix="build-fuzz/artifacts/$target-" \
    ${CELTRACE_FUZZ_SEED:+-seed="$CELTRACE_FUZZ_SEED"} \
    "build-fuzz/corpus/$target" "build-fuzz/seeds/$target" >"$log" 2>&1 || status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log")
  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  corpus=$(sed -n 's/.* corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p' <<<"$last")
  result=ok
  if [ "$status" -ne 0 ]; then
    result="FAILED (exit $status, log $log)"
    failed+=("$target")
  fi
  printf '%-18s %10s %8s %8s %14s %9s  %s\n' "$target" "${runs:--}" "${rate:--}" "${cov:--}" \
    "${corpus:--}" "${rss:+${rss} MB}" "$result"
done
for target in "${failed[@]}"; do
  echo "--- $target (build-fuzz/logs/$target.log) ---" >&2
  grep -E -A40 '^==[0-9]+==|runtime error|deadly signal|Test unit written' \
    "build-fuzz/logs/$target.log" | head -n 80 >&2 || tail -n 40 "build-fuzz/logs/$target.log" >&2
done
[ ${#failed[@]} -eq 0 ]
