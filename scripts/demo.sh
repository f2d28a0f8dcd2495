#!/usr/bin/env bash
# The README's first command: set up, build, then the main job on an embedded sample:
# make a small catalogue of (synthetic) licensed episodes, index it, make a sample leak
# (stills, clips, a zip, negatives, corrupt files), match it, print the attributions.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
OUT=demo-out
rm -rf "$OUT" && mkdir -p "$OUT"
SYNTH=build/bench/synth/celtrace-synth
SAMPLE=(--episodes 4 --seconds 30 --seed 5 --size 640x360)

echo "== 1. sample catalogue: 4 episodes of 2 shows (synthetic animation)"
"$SYNTH" catalog --out "$OUT/catalog" "${SAMPLE[@]}" 2>/dev/null
cat "$OUT/catalog/catalog.csv"

echo "== 2. celtrace-index build"
build/indexer/celtrace-index build "$OUT/catalog/catalog.csv" --index "$OUT/index"
build/indexer/celtrace-index info --index "$OUT/index"

echo "== 3. a sample leak: transformed stills, clips, a zip, unrelated art, flat and corrupt files"
"$SYNTH" leak --out "$OUT/leak" "${SAMPLE[@]}" --leak-seed 11

echo "== 4. celtrace-match (records: $OUT/results.jsonl, $OUT/results.csv; evidence: $OUT/report.html)"
status=0
build/matcher/celtrace-match --index "$OUT/index" "$OUT/leak" --out "$OUT/results.jsonl" \
  --csv "$OUT/results.csv" --report "$OUT/report.html" || status=$?
echo "(exit code $status: 1 means some inputs are recorded as errors, here the corrupt files)"

echo "== 5. attributions"
jq -r '
  def tc: (. * 1000 | round) as $ms
    | "\($ms / 3600000 | floor):\(($ms / 60000 | floor) % 60 | tostring | if length < 2 then "0" + . else . end):\(($ms / 1000 | floor) % 60 | tostring | if length < 2 then "0" + . else . end).\($ms % 1000 | tostring | if length < 3 then ("00" + .)[-3:] else . end)";
  (.path | sub("^demo-out/leak/"; "")) as $p
  | if .status == "match" then
      (.matches[0]) as $m
      | "\($p)\n    -> \($m.title) S\($m.season)E\($m.episode) \($m.ref_start | tc)-\($m.ref_end | tc)"
        + (if $m.frames then "  (clip \($m.query_start | tc)-\($m.query_end | tc), \($m.frames) frames)" else "" end)
        + "  distance \($m.distance), confidence \($m.confidence), \($m.orientation)"
        + (if (.matches | length) > 1 then "  [+\((.matches | length) - 1) more]" else "" end)
    else "\($p)\n    -> \(.status)" + (if .error then ": \(.error)" else "" end) end' \
  "$OUT/results.jsonl"
echo
echo "Ground truth of the sample leak: $OUT/leak/expected.csv"
