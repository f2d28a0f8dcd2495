#!/usr/bin/env bash
# End-to-end indexing throughput, measured against FFmpeg's own decode speed in the same run:
#   ratio = celtrace-index frames/s  /  `ffmpeg -i EPISODE -f null -` frames/s
# on the same H.264 files and the same cores, plus scaling from 1 to 2 worker threads,
# entries per minute of footage and bytes per entry.
# Usage: bench/index_throughput.sh [episodes=4] [seconds=60] [size=1280x720]
set -euo pipefail
cd "$(dirname "$0")/.."
EPISODES=${1:-4}
SECONDS_EACH=${2:-60}
SIZE=${3:-1280x720}
BUILD=${BUILD:-build}
WORK=${WORK:-/tmp/celtrace-bench-index}
INDEX_BIN="$BUILD/indexer/celtrace-index"
SYNTH_BIN="$BUILD/bench/synth/celtrace-synth"

now() { date +%s.%N; }
rate() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.1f", n / t }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

rm -rf "$WORK" && mkdir -p "$WORK/src" "$WORK/h264"
"$SYNTH_BIN" catalog --out "$WORK/src" --episodes "$EPISODES" --seconds "$SECONDS_EACH" \
  --size "$SIZE" >/dev/null
# Broadcast-like files: H.264 in MP4.
echo "path,title,season,episode" > "$WORK/h264/catalog.csv"
tail -n +2 "$WORK/src/catalog.csv" | while IFS=, read -r path title season episode _; do
  out="${path%.mkv}.mp4"
  ffmpeg -nostdin -loglevel error -y -i "$WORK/src/$path" -c:v libx264 -preset veryfast -crf 20 \
    -pix_fmt yuv420p "$WORK/h264/$out"
  echo "$out,$title,$season,$episode" >> "$WORK/h264/catalog.csv"
done
FILES=("$WORK"/h264/*.mp4)
FRAMES=0
for f in "${FILES[@]}"; do
  n=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames \
        -of csv=p=0 "$f")
  FRAMES=$((FRAMES + n))
done

decode_all() {
  local start end
  start=$(now)
  for f in "${FILES[@]}"; do ffmpeg -nostdin -loglevel error -threads "$1" -i "$f" -f null -; done
  end=$(now)
  awk -v a="$start" -v b="$end" 'BEGIN { print b - a }'
}
index_all() {
  local start end
  rm -rf "$WORK/index"
  start=$(now)
  "$INDEX_BIN" build "$WORK/h264/catalog.csv" --index "$WORK/index" --threads "$1" --no-progress \
    2>/dev/null
  end=$(now)
  awk -v a="$start" -v b="$end" 'BEGIN { print b - a }'
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "footage: $EPISODES episodes x ${SECONDS_EACH}s, $SIZE H.264, $FRAMES frames"
D2=$(decode_all 0)
I2=$(index_all 2)
D1=$(decode_all 1)
I1=$(index_all 1)
echo "ffmpeg -f null decode, all cores:   $(rate "$FRAMES" "$D2") frames/s"
echo "celtrace-index build --threads 2:   $(rate "$FRAMES" "$I2") frames/s"
echo "ratio (2 cores):                    $(ratio "$D2" "$I2")"
echo "ffmpeg -threads 1 decode:           $(rate "$FRAMES" "$D1") frames/s"
echo "celtrace-index build --threads 1:   $(rate "$FRAMES" "$I1") frames/s"
echo "ratio (1 core):                     $(ratio "$D1" "$I1")"
echo "scaling 1 -> 2 threads:             $(ratio "$I1" "$I2")x"
"$INDEX_BIN" info --index "$WORK/index"
