#!/usr/bin/env bash
# Installs the Debian 12 packages celtrace needs to build, test, benchmark and run its demo.
# Idempotent: returns at once when everything is already installed. Arguments are further
# packages to install the same way (scripts/fuzz.sh: clang libclang-rt-14-dev).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config clang-format
  libopencv-dev libopencv-contrib-dev
  libfaiss-dev
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev ffmpeg
  libtbb-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  libsqlitecpp-dev libsqlite3-dev libarchive-dev libxxhash-dev libssl-dev
  jq
  chromium fonts-dejavu-core
)
PACKAGES+=("$@")

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
