#!/usr/bin/env bash
# End-to-end matcher throughput on a synthetic leak: stills/s and clip seconds/s with
# celtrace-match on all cores, against an index of a synthetic catalogue, and against the
# same index padded with synthetic entries to each size in $SCALES (celtrace-pad-index),
# with the time to open each index (a run over one file).
# Usage: [SCALES="100000 1000000 10000000"] bench/match_throughput.sh [episodes=8]
#        [seconds=60] [stills_per_transform=20]
set -euo pipefail
cd "$(dirname "$0")/.."
EPISODES=${1:-8}
SECONDS_EACH=${2:-60}
STILLS=${3:-20}
BUILD=${BUILD:-build}
WORK=${WORK:-/tmp/celtrace-bench-match}
SPEC=(--episodes "$EPISODES" --seconds "$SECONDS_EACH" --seed 3 --size 1280x720)
now() { date +%s.%N; }

# The footage, index and leaks are made once per $WORK and reused (KEEP=0 remakes them).
if [ "${KEEP:-1}" = 0 ] || [ ! -f "$WORK/ready" ]; then
  rm -rf "$WORK" && mkdir -p "$WORK"
  "$BUILD/bench/synth/celtrace-synth" catalog --out "$WORK/catalog" "${SPEC[@]}" 2>/dev/null
  "$BUILD/indexer/celtrace-index" build "$WORK/catalog/catalog.csv" --index "$WORK/index" \
    --no-progress 2>/dev/null
  "$BUILD/bench/synth/celtrace-synth" leak --out "$WORK/stills" "${SPEC[@]}" --leak-seed 7 \
    --stills-per-transform "$STILLS" --no-clips --no-archive 2>/dev/null
  "$BUILD/bench/synth/celtrace-synth" leak --out "$WORK/clips" "${SPEC[@]}" --leak-seed 8 \
    --stills-per-transform 1 --no-archive 2>/dev/null
  find "$WORK/clips" -type f ! \( -name '*.mp4' -o -name '*.mkv' -o -name '*.mov' -o -name '*.avi' \) -delete
  touch "$WORK/ready"
fi

run() {  # run INDEX INPUT: prints the wall-clock seconds of celtrace-match
  local start end
  start=$(now)
  "$BUILD/matcher/celtrace-match" --index "$1" "$2" --out "$WORK/out.jsonl" \
    --no-progress 2>/dev/null || true
  end=$(now)
  awk -v a="$start" -v b="$end" 'BEGIN { print b - a }'
}
STILL_COUNT=$(find "$WORK/stills" -type f ! -name expected.csv | wc -l)
[ "${PREPARE_ONLY:-0}" = 1 ] && exit 0
CLIP_SECONDS=0
for f in "$WORK"/clips/*/* "$WORK"/clips/*/*/*; do
  [ -f "$f" ] || continue
  d=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$f" 2>/dev/null || echo 0)
  CLIP_SECONDS=$(awk -v a="$CLIP_SECONDS" -v b="${d:-0}" 'BEGIN { print a + (b == "N/A" ? 0 : b) }')
done
ONE=$(find "$WORK/stills" -type f -name '*.png' -print -quit)
echo "machine: $(nproc) cores; catalogue: $EPISODES episodes x ${SECONDS_EACH}s 1280x720;" \
  "leak: $STILL_COUNT stills, $CLIP_SECONDS s of clips"
echo "| entries | open index (s) | stills/s | clip-seconds/s |"
echo "|---|---|---|---|"
measure() {  # measure INDEX
  local entries t_open t_stills t_clips
  entries=$("$BUILD/indexer/celtrace-index" info --index "$1" --json | jq .entries)
  t_open=$(run "$1" "$ONE")
  t_stills=$(run "$1" "$WORK/stills")
  t_clips=$(run "$1" "$WORK/clips")
  awk -v e="$entries" -v o="$t_open" -v n="$STILL_COUNT" -v s="$t_stills" -v c="$CLIP_SECONDS" \
    -v t="$t_clips" 'BEGIN { printf "| %d | %.2f | %.1f | %.1f |\n", e, o, n / s, c / t }'
}
measure "$WORK/index"
for scale in ${SCALES:-}; do
  rm -rf "$WORK/index-$scale"
  "$BUILD/bench/celtrace-pad-index" "$WORK/index" "$WORK/index-$scale" --entries "$scale" 2>/dev/null
  measure "$WORK/index-$scale"
  rm -rf "$WORK/index-$scale"
done
