#!/usr/bin/env bash
# Builds Debian 12's oneTBB (the source of the libtbb12 package celtrace links) with
# -fsanitize=thread into DIR, for scripts/sanitize.sh tsan, and prints the folder holding
# its libtbb.so.12. Debian's own libtbb.so.12 is not instrumented: TSan cannot see the
# scheduler hand work to its threads, and reports every task's first access to what the
# thread that started parallel_for/parallel_pipeline wrote (a two-episode celtrace-index
# build: 62 s with those reports suppressed, 11 s over this build; README "Sanitizers").
# With this library on LD_LIBRARY_PATH, the tests and every program they start (OpenCV
# included, which links libtbb.so.12 too) use the instrumented scheduler, and races between
# celtrace's tasks are checked. The source is Debian's, pinned by SHA-256; idempotent.
# Usage: scripts/tsan-tbb.sh DIR
set -euo pipefail
dir="${1:?usage: scripts/tsan-tbb.sh DIR}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
built() { find "$dir/build" -name libtbb.so.12 -printf '%h\n' 2>/dev/null | head -n 1; }
if [ -n "$(built)" ]; then
  built
  exit 0
fi

version=2021.8.0
debian_version=2021.8.0-2+deb12u1
pool=http://deb.debian.org/debian/pool/main/o/onetbb
sources=(
  "onetbb_$version.orig.tar.xz 7e9111b8bb59c8800bf6d0b06afe7b0891937443d2dae1ee1101c8e2ede6a7ef"
  "onetbb_$debian_version.debian.tar.xz b83a270205b38cdf66972fa1467c3e29493b88b92ecacf4f3672e87d67199df5"
)
installed=$(dpkg-query -W -f='${Version}' libtbb12 2>/dev/null || true)
if [ "$installed" != "$debian_version" ]; then
  echo "tsan-tbb: libtbb12 is $installed here, building $debian_version (same soname)" >&2
fi
bash "$(dirname "$0")/setup.sh" curl ca-certificates xz-utils >&2

cd "$dir"
for entry in "${sources[@]}"; do
  read -r file sha256 <<<"$entry"
  if ! echo "$sha256  $file" | sha256sum --check --status 2>/dev/null; then
    echo "tsan-tbb: downloading $file" >&2
    curl --fail --silent --show-error --location -o "$file.part" "$pool/$file"
    mv "$file.part" "$file"
    echo "$sha256  $file" | sha256sum --check --quiet
  fi
done
# Debian's patches (quilt series) over the upstream source, as the package is built.
rm -rf src
mkdir src
tar -xJf "onetbb_$version.orig.tar.xz" -C src --strip-components=1
tar -xJf "onetbb_$debian_version.debian.tar.xz" -C src
while read -r patch; do
  case "$patch" in ''|'#'*) continue ;; esac
  patch -d src -p1 --quiet <"src/debian/patches/$patch"
done <src/debian/patches/series

echo "tsan-tbb: building oneTBB $version with -fsanitize=thread (about 2 minutes)" >&2
cmake -S src -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTBB_SANITIZE=thread \
  -DTBB_TEST=OFF -DTBB_STRICT=OFF -DTBBMALLOC_BUILD=OFF -DTBB_ENABLE_IPO=OFF >build.log 2>&1 ||
  { cat build.log >&2; exit 1; }
cmake --build build -j "${CELTRACE_JOBS:-2}" >>build.log 2>&1 || { tail -n 40 build.log >&2; exit 1; }
[ -n "$(built)" ] || { echo "tsan-tbb: the build made no libtbb.so.12" >&2; exit 1; }
built
