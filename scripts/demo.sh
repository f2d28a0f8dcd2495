#!/usr/bin/env bash
# The README's first command: set up, build, then show celtrace at work on embedded samples.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
OUT=demo-out
mkdir -p "$OUT"
INDEX=build/indexer/celtrace-index
IMAGES=tests/data/pdq-vectors/pdq/data/reg-test-input/dih

echo "== PDQ of Meta's sample photo (reference: f8f8f0ce...9b22, quality 100)"
"$INDEX" hash "$IMAGES/bridge-1-original.jpg"

echo "== its 8 dihedral hashes from one DCT (original, rot90, rot180, rot270, flipx, flipy, flipplus1, flipminus1)"
"$INDEX" hash --dihedral "$IMAGES/bridge-1-original.jpg"

echo "== a generated 2-second clip, one line per frame: frame,quality,hash,seconds"
ffmpeg -loglevel error -y -f lavfi -i "testsrc2=size=320x240:rate=12:duration=2" \
  -c:v mpeg4 -q:v 3 "$OUT/sample-clip.mp4"
"$INDEX" hash "$OUT/sample-clip.mp4" | head -n 6
echo "   ... ($("$INDEX" hash "$OUT/sample-clip.mp4" | wc -l) frames)"
