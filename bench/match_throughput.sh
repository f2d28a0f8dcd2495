#!/usr/bin/env bash
# End-to-end matcher throughput on a synthetic leak: stills/s and clip seconds/s with
# celtrace-match on all cores, against an index of a synthetic catalogue.
# Usage: bench/match_throughput.sh [episodes=8] [seconds=60] [stills_per_transform=20]
set -euo pipefail
cd "$(dirname "$0")/.."
EPISODES=${1:-8}
SECONDS_EACH=${2:-60}
STILLS=${3:-20}
BUILD=${BUILD:-build}
WORK=${WORK:-/tmp/celtrace-bench-match}
SPEC=(--episodes "$EPISODES" --seconds "$SECONDS_EACH" --seed 3 --size 1280x720)
now() { date +%s.%N; }

rm -rf "$WORK" && mkdir -p "$WORK"
"$BUILD/bench/synth/celtrace-synth" catalog --out "$WORK/catalog" "${SPEC[@]}" 2>/dev/null
"$BUILD/indexer/celtrace-index" build "$WORK/catalog/catalog.csv" --index "$WORK/index" \
  --no-progress 2>/dev/null
"$BUILD/bench/synth/celtrace-synth" leak --out "$WORK/stills" "${SPEC[@]}" --leak-seed 7 \
  --stills-per-transform "$STILLS" --no-clips --no-archive 2>/dev/null
"$BUILD/bench/synth/celtrace-synth" leak --out "$WORK/clips" "${SPEC[@]}" --leak-seed 8 \
  --stills-per-transform 1 --no-archive 2>/dev/null
find "$WORK/clips" -type f ! \( -name '*.mp4' -o -name '*.mkv' -o -name '*.mov' -o -name '*.avi' \) -delete

run() {
  local start end
  start=$(now)
  "$BUILD/matcher/celtrace-match" --index "$WORK/index" "$1" --out "$WORK/out.jsonl" \
    --no-progress 2>/dev/null || true
  end=$(now)
  awk -v a="$start" -v b="$end" 'BEGIN { print b - a }'
}
STILL_COUNT=$(find "$WORK/stills" -type f ! -name expected.csv | wc -l)
T_STILLS=$(run "$WORK/stills")
CLIP_SECONDS=0
for f in "$WORK"/clips/*/* "$WORK"/clips/*/*/*; do
  [ -f "$f" ] || continue
  d=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$f" 2>/dev/null || echo 0)
  CLIP_SECONDS=$(awk -v a="$CLIP_SECONDS" -v b="${d:-0}" 'BEGIN { print a + (b == "N/A" ? 0 : b) }')
done
T_CLIPS=$(run "$WORK/clips")
ENTRIES=$("$BUILD/indexer/celtrace-index" info --index "$WORK/index" --json | grep '"entries"' | tr -dc 0-9)
echo "machine: $(nproc) cores; index: $EPISODES episodes x ${SECONDS_EACH}s 1280x720, $ENTRIES entries"
awk -v n="$STILL_COUNT" -v t="$T_STILLS" 'BEGIN { printf "stills: %d files in %.2f s = %.1f stills/s\n", n, t, n / t }'
awk -v n="$CLIP_SECONDS" -v t="$T_CLIPS" 'BEGIN { printf "clips: %.1f s of video in %.2f s = %.1f clip-seconds/s\n", n, t, n / t }'
