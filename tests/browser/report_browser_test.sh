#!/usr/bin/env bash
# The HTML evidence report in a real browser (Debian's chromium, headless): builds the sample
# catalogue and leak (as scripts/demo.sh does), adds a file named
# `<img src=x onerror=alert(1)>.png`, runs celtrace-match --report, loads the page and checks
# that it logs no console message or error (CSP violations included), renders one row per
# input on its first page with thumbnails, and shows the hostile name as text, never as an
# element.
#
# Usage: report_browser_test.sh [BUILD_DIR] [--screenshot FILE.png] [--keep DIR]
#   BUILD_DIR     the CMake build folder (default: build/ beside this repository's root)
#   --screenshot  also save a 1280x900 screenshot of the page
#   --keep DIR    leave the sample, report and browser output in DIR
# CELTRACE_SYNTH, CELTRACE_INDEX, CELTRACE_MATCH override the programs' paths.
# Exit codes: 0 pass, 1 fail, 77 skipped (no chromium; ctest SKIP_RETURN_CODE).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="$ROOT/build"
SCREENSHOT=""
KEEP=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --screenshot) SCREENSHOT="$(realpath -m "$2")"; shift 2 ;;
    --keep) KEEP="$(realpath -m "$2")"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) BUILD="$(realpath -m "$1")"; shift ;;
  esac
done

CHROMIUM="$(command -v chromium || command -v chromium-browser || true)"
if [[ -z "$CHROMIUM" ]]; then
  echo "SKIP: chromium is not installed (apt-get install -y chromium)" >&2
  exit 77
fi
# The programs, from the build folder unless named in the environment.
SYNTH="${CELTRACE_SYNTH:-$BUILD/bench/synth/celtrace-synth}"
INDEX="${CELTRACE_INDEX:-$BUILD/indexer/celtrace-index}"
MATCH="${CELTRACE_MATCH:-$BUILD/matcher/celtrace-match}"
for program in "$SYNTH" "$INDEX" "$MATCH"; do
  [[ -x "$program" ]] || { echo "FAIL: $program not built" >&2; exit 1; }
done

if [[ -n "$KEEP" ]]; then
  WORK="$KEEP"
  rm -rf "$WORK" && mkdir -p "$WORK"
else
  WORK="$(mktemp -d)"
  trap 'rm -rf "$WORK"' EXIT
fi

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# The demo's sample: 4 episodes of 2 shows, a leak of stills, clips, a zip, negatives, corrupt
# files.
SAMPLE=(--episodes 4 --seconds 30 --seed 5 --size 640x360)
"$SYNTH" catalog --out "$WORK/catalog" "${SAMPLE[@]}" >/dev/null 2>&1
"$INDEX" build "$WORK/catalog/catalog.csv" --index "$WORK/index" --no-progress >/dev/null 2>&1
"$SYNTH" leak --out "$WORK/leak" "${SAMPLE[@]}" --leak-seed 11 >/dev/null 2>&1
EVIL='<img src=x onerror=alert(1)>.png'
still="$(awk -F, '$2 == "still" && $3 == "none" && $1 !~ /!/ { print $1; exit }' "$WORK/leak/expected.csv")"
[[ -n "$still" ]] || { echo "FAIL: no untransformed still in the sample leak" >&2; exit 1; }
cp "$WORK/leak/$still" "$WORK/leak/$EVIL"

status=0
# From the work folder, so that the page shows the short paths an investigator would type.
(cd "$WORK" && "$MATCH" --index index leak --out results.jsonl --report report.html \
  --no-progress 2>match.log) || status=$?
# 1: the sample's corrupt files are `error` records.
[[ $status -le 1 ]] || { cat "$WORK/match.log" >&2; echo "FAIL: celtrace-match exit $status" >&2; exit 1; }
[[ -s "$WORK/report.html" ]] || { echo "FAIL: no report written" >&2; exit 1; }
inputs=$(wc -l < "$WORK/results.jsonl")
matched=$(grep -c '"status":"match"' "$WORK/results.jsonl" || true)
grep -F "$EVIL" "$WORK/results.jsonl" | grep -q '"status":"match"' ||
  fail "the copied still was not matched"

BROWSER=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
         --disable-background-networking --disable-component-update --disable-sync
         --disable-extensions --enable-logging=stderr --v=0)
profile="$(mktemp -d)"
started=$(date +%s%N)
# A page that ran an injected alert() would block here: the timeout turns that into a failure.
code=0
timeout 120 "$CHROMIUM" "${BROWSER[@]}" --user-data-dir="$profile" \
  --dump-dom "file://$WORK/report.html" >"$WORK/dom.html" 2>"$WORK/chromium.log" || code=$?
[[ $code -eq 0 ]] || fail "chromium exited with $code (124: timed out, e.g. blocked by a dialog)"
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
rm -rf "$profile"

# Console messages of the page: errors, uncaught exceptions, CSP violations. The page itself
# never logs, so any message is a failure.
if grep -E ':CONSOLE|Uncaught|Content Security Policy' "$WORK/chromium.log" >&2; then
  fail "the page logged to the console (lines above)"
fi

rows=$(grep -o '<tr class="row"' "$WORK/dom.html" | wc -l)
expected_rows=$((inputs < 200 ? inputs : 200))
[[ $rows -eq $expected_rows ]] || fail "$rows rows on the first page, expected $expected_rows"
thumbs=$(grep -o '<img class="thumb"' "$WORK/dom.html" | wc -l)
# Every matched input shows its leaked image and its reference frame.
[[ $thumbs -ge $((2 * matched)) ]] || fail "$thumbs thumbnails for $matched matched inputs"
grep -qF '&lt;img src=x onerror=alert(1)&gt;.png' "$WORK/dom.html" ||
  fail "the hostile file name does not appear as text"
if grep -qiE '<img src="?x' "$WORK/dom.html"; then fail "an <img src=x> element exists"; fi
if grep -qiE '<[a-z][^>]*[[:space:]]onerror=' "$WORK/dom.html"; then
  fail "an element has an onerror attribute"
fi
if grep -qiE 'https?://' "$WORK/report.html"; then fail "the report holds a URL"; fi
# A channel's top match (keypoints' inliers, or a stroke lookup's method; the first match
# object of a record, which holds no nested object) shows what it rests on; pdq's do not.
# The first page shows the first 200 inputs, in the records' order.
channel_tops=$(head -n 200 "$WORK/results.jsonl" |
  grep -cE '"status":"match".*"matches":\[\{[^}]*"(inliers|method)"' || true)
evidence=$(grep -o '<div class="evidence">' "$WORK/dom.html" | wc -l)
[[ $evidence -eq $channel_tops ]] ||
  fail "$evidence evidence lines for $channel_tops channel matches on the first page"

if [[ -n "$SCREENSHOT" ]]; then
  profile="$(mktemp -d)"
  mkdir -p "$(dirname "$SCREENSHOT")"
  timeout 120 "$CHROMIUM" "${BROWSER[@]}" --user-data-dir="$profile" --hide-scrollbars \
    --window-size=1280,900 --screenshot="$SCREENSHOT" "file://$WORK/report.html" \
    >/dev/null 2>&1 || fail "screenshot failed"
  rm -rf "$profile"
fi

printf 'report: %d inputs, %d matched (%d by a channel), %d bytes; chromium: %d rows, %d thumbnails, %d ms\n' \
  "$inputs" "$matched" "$channel_tops" "$(stat -c %s "$WORK/report.html")" "$rows" "$thumbs" \
  "$elapsed_ms"
if [[ $failures -gt 0 ]]; then
  echo "FAIL: $failures check(s) failed (work folder: ${KEEP:-removed; rerun with --keep DIR})" >&2
  exit 1
fi
echo "PASS"
