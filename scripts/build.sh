#!/usr/bin/env bash
# Configures and builds celtrace into ./build (Release-with-debug-info, Ninja, 2 jobs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset default >/dev/null
cmake --build build -j "${CELTRACE_JOBS:-2}"
