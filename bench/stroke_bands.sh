#!/usr/bin/env bash
# The stroke search on bands of drawings (README "Accuracy", "The stroke search"): of every
# full-frame drawing (`lineart`) of the given evaluation leaks (celtrace-synth leak
# --evaluation), a band across its whole width ($KEEP% of its height, "wide") and one down its
# whole height ($KEEP% of its width, "tall"), at offsets drawn from a fixed seed; then
# celtrace-match --stroke-search over them. Prints, per kind, the right episode, a wrong one
# and no match; keeps the bands, the records and the log in $WORK.
# Usage: bench/stroke_bands.sh INDEX LEAK_DIR...
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 2 ]; then
  echo "usage: bench/stroke_bands.sh INDEX LEAK_DIR..." >&2
  exit 2
fi
BUILD=${BUILD:-build}
WORK=${WORK:-/tmp/celtrace-bands}
KEEP=${KEEP:-70}
MATCH="$BUILD/matcher/celtrace-match"
index=$1
shift

rm -rf "$WORK"
mkdir -p "$WORK/bands"
truth="$WORK/truth.tsv"
: >"$truth"
RANDOM=7
n=0
for leak in "$@"; do
  # expected.csv: path,kind,transform,expected,title,season,episode,...; the synthetic leak's
  # paths hold no commas or quotes.
  while IFS=, read -r path _ transform _ title _ episode _; do
    [ "$transform" = lineart ] || continue
    source="$leak/$path"
    IFS=x read -r w h < <(ffprobe -v error -select_streams v:0 -show_entries stream=width,height \
      -of csv=p=0:s=x "$source")
    for kind in wide tall; do
      if [ "$kind" = wide ]; then
        cw=$w ch=$((h * KEEP / 100))
      else
        cw=$((w * KEEP / 100)) ch=$h
      fi
      x=$((RANDOM % (w - cw + 1))) y=$((RANDOM % (h - ch + 1)))
      band="$WORK/bands/${kind}_$n.png"
      n=$((n + 1))
      ffmpeg -v error -nostdin -y -i "$source" -vf "crop=$cw:$ch:$x:$y" "$band"
      printf '%s\t%s\t%s\t%s\n' "$band" "$kind" "$title" "$episode" >>"$truth"
    done
  done < <(tail -n +2 "$leak/expected.csv")
done

status=0
TIMEFORMAT="%R s, %U s of user CPU"
{ time cut -f1 "$truth" | "$MATCH" --index "$index" --stroke-search --threads "$(nproc)" \
  --no-progress - >"$WORK/bands.jsonl" 2>"$WORK/bands.log"; } 2>"$WORK/time.txt" || status=$?
if [ "$status" -gt 1 ]; then
  echo "celtrace-match failed ($status), see $WORK/bands.log" >&2
  exit 1
fi
echo "$n bands ($KEEP%) of the drawings of $#" "leak(s); celtrace-match --stroke-search:" \
  "$(cat "$WORK/time.txt")"
echo
echo "| band | right episode | wrong episode | no match |"
echo "|---|---|---|---|"
jq -rn --rawfile truth "$truth" '
  ($truth | split("\n") | map(select(length > 0) | split("\t"))
   | map({key: .[0], value: {kind: .[1], title: .[2], episode: .[3]}}) | from_entries) as $t
  | [inputs | $t[.path] as $e
     | {kind: $e.kind,
        verdict: (if .status != "match" then "none"
                  elif .matches[0].title == $e.title
                       and (.matches[0].episode | tostring) == $e.episode then "right"
                  else "wrong" end)}]
  | group_by(.kind)[]
  | "| \(.[0].kind) | \(map(select(.verdict == "right")) | length) of \(length)"
    + " | \(map(select(.verdict == "wrong")) | length) | \(map(select(.verdict == "none")) | length) |"
' "$WORK/bands.jsonl"
