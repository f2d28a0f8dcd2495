#!/usr/bin/env bash
# Accuracy evaluation on a seeded synthetic evaluation set: a catalogue of animated episodes
# of two shows (each with its shared opening), indexed; a leak of stills under 29
# transformations, hard negatives and clips (celtrace-synth leak --evaluation); celtrace-match
# at the default settings, at a wide threshold for the threshold curve, and over the clips at
# further clip thresholds. Prints Markdown tables (celtrace-evaluate) and keeps everything in
# $WORK. Usage: bench/evaluate.sh [episodes=10] [seconds=60] [stills_per_transform=20]
#               [clips_per_kind=4]
set -euo pipefail
cd "$(dirname "$0")/.."
EPISODES=${1:-10}
SECONDS_EACH=${2:-60}
STILLS=${3:-20}
CLIPS=${4:-4}
BUILD=${BUILD:-build}
WORK=${WORK:-/tmp/celtrace-eval}
SIZE=${SIZE:-1280x720}
CLIP_THRESHOLDS=${CLIP_THRESHOLDS:-"31 36 40 44"}
SPEC=(--episodes "$EPISODES" --seconds "$SECONDS_EACH" --seed 21 --size "$SIZE" --opening)
SYNTH="$BUILD/bench/synth/celtrace-synth"
MATCH="$BUILD/matcher/celtrace-match"

mkdir -p "$WORK"
if [ ! -f "$WORK/catalog/catalog.csv" ]; then
  "$SYNTH" catalog --out "$WORK/catalog" "${SPEC[@]}" 2>/dev/null
fi
if [ ! -f "$WORK/index/CURRENT" ]; then
  "$BUILD/indexer/celtrace-index" build "$WORK/catalog/catalog.csv" --index "$WORK/index" \
    --no-progress 2>/dev/null
fi
rm -rf "$WORK/leak"
"$SYNTH" leak --out "$WORK/leak" "${SPEC[@]}" --leak-seed 23 --stills-per-transform "$STILLS" \
  --evaluation --evaluation-clips "$CLIPS" --catalog-dir "$WORK/catalog" 2>&1 | tail -1 >&2

echo "machine: $(nproc) cores; catalogue: $EPISODES episodes x ${SECONDS_EACH}s $SIZE with openings;" \
  "index: $("$BUILD/indexer/celtrace-index" info --index "$WORK/index" --json | jq .entries) entries"
echo
"$MATCH" --index "$WORK/index" "$WORK/leak" --out "$WORK/default.jsonl" --no-progress \
  2>"$WORK/default.log" || true
"$MATCH" --index "$WORK/index" "$WORK/leak" --out "$WORK/wide.jsonl" --threshold 100 \
  --max-matches 20 --no-progress 2>/dev/null || true
# The records' paths are the leak's paths as given; score against them.
sed "s#^#$WORK/leak/#; 1s#^.*\$#$(head -1 "$WORK/leak/expected.csv")#" "$WORK/leak/expected.csv" \
  >"$WORK/expected.csv"
"$BUILD/bench/eval/celtrace-evaluate" --expected "$WORK/expected.csv" \
  --records "$WORK/default.jsonl" --wide "$WORK/wide.jsonl"

# Clips alone at further clip thresholds.
awk -F, 'NR > 1 && ($2 == "clip" || ($2 == "negative" && $1 ~ /\.(avi|mp4|mkv|mov)$/)) { print $1 }' \
  "$WORK/expected.csv" | sort -u >"$WORK/clips.txt"
for t in $CLIP_THRESHOLDS; do
  echo "clips at --clip-threshold $t:"
  "$MATCH" --index "$WORK/index" --out "$WORK/clips-$t.jsonl" --clip-threshold "$t" \
    --no-progress - <"$WORK/clips.txt" 2>/dev/null || true
  "$BUILD/bench/eval/celtrace-evaluate" --expected "$WORK/expected.csv" \
    --records "$WORK/clips-$t.jsonl" --clips-only
done
