#!/usr/bin/env bash
# The README's test command: set-up if needed, configure, build, run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j "${CELTRACE_JOBS:-2}" --timeout 600
