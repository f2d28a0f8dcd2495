#!/usr/bin/env bash
# The stroke search on bands of drawings (README "Accuracy", "The stroke search"): of every
# full-frame drawing (`lineart`) of the given evaluation leaks (celtrace-synth leak
# --evaluation), a band across its whole width ($KEEP% of its height, "wide") and one down its
# whole height ($KEEP% of its width, "tall"), at offsets drawn from a fixed seed; then
# celtrace-match --stroke-search over them. Prints, per kind, the right episode, a wrong one,
# no match and errors (an unreadable band); keeps the bands, where each was cut (truth.tsv),
# the records and the log in $WORK (a new folder under /tmp unless named).
# Usage: bench/stroke_bands.sh INDEX LEAK_DIR...
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: bench/stroke_bands.sh INDEX LEAK_DIR..." >&2
  exit 2
fi
KEEP=${KEEP:-70}
if ! [[ "$KEEP" =~ ^[0-9]+$ ]] || [ "$KEEP" -lt 10 ] || [ "$KEEP" -gt 100 ]; then
  echo "KEEP is a percentage, 10-100: $KEEP" >&2
  exit 2
fi
index=$(realpath "$1")
shift
leaks=()
for leak in "$@"; do
  if [ ! -f "$leak/expected.csv" ]; then
    echo "no expected.csv in $leak (an evaluation leak: celtrace-synth leak --evaluation)" >&2
    exit 2
  fi
  leaks+=("$(realpath "$leak")")
done
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
MATCH="$BUILD/matcher/celtrace-match"
# The work folder is made here (or named by $WORK, then new or one this script made), never
# another folder emptied.
if [ -z "${WORK:-}" ]; then
  WORK=$(mktemp -d /tmp/celtrace-bands.XXXXXX)
elif [ -e "$WORK" ] && [ ! -f "$WORK/.stroke_bands" ]; then
  echo "$WORK exists and is not a folder this script made" >&2
  exit 2
else
  rm -rf "$WORK"
  mkdir -p "$WORK"
fi
touch "$WORK/.stroke_bands"
mkdir -p "$WORK/bands"
truth="$WORK/truth.tsv"
: >"$truth"
# Offsets from a fixed linear congruential sequence (bash's RANDOM differs between versions).
state=7
draw=0
next() { # draw = the next number of the sequence, 0..$1-1
  state=$(((state * 1103515245 + 12345) % 2147483648))
  draw=$((state / 65536 % $1))
}
n=0
for leak in "${leaks[@]}"; do
  # expected.csv: path,kind,transform,expected,title,season,episode,...; the synthetic leak's
  # paths and titles hold no commas or quotes.
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
      next $((w - cw + 1))
      x=$draw
      next $((h - ch + 1))
      y=$draw
      band="$WORK/bands/${kind}_$n.png"
      n=$((n + 1))
      ffmpeg -v error -nostdin -y -i "$source" -vf "crop=$cw:$ch:$x:$y" "$band"
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$band" "$kind" "$title" "$episode" "$source" \
        "crop=$cw:$ch:$x:$y" >>"$truth"
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
echo "$n bands ($KEEP%) of the drawings of ${#leaks[@]}" "leak(s); celtrace-match --stroke-search:" \
  "$(cat "$WORK/time.txt")"
echo
echo "| band | right episode | wrong episode | no match | error |"
echo "|---|---|---|---|---|"
jq -rn --rawfile truth "$truth" '
  ($truth | split("\n") | map(select(length > 0) | split("\t"))
   | map({key: .[0], value: {kind: .[1], title: .[2], episode: .[3]}}) | from_entries) as $t
  | [inputs | $t[.path] as $e
     | {kind: $e.kind,
        verdict: (if .status == "error" then "error" elif .status != "match" then "none"
                  elif .matches[0].title == $e.title
                       and (.matches[0].episode | tostring) == $e.episode then "right"
                  else "wrong" end)}]
  | group_by(.kind)[]
  | "| \(.[0].kind) | \(map(select(.verdict == "right")) | length) of \(length)"
    + " | \(map(select(.verdict == "wrong")) | length) | \(map(select(.verdict == "none")) | length)"
    + " | \(map(select(.verdict == "error")) | length) |"
' "$WORK/bands.jsonl"
