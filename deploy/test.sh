#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds, and runs every test (unit and end-to-end).
# Extra arguments go to ctest, e.g. deploy/test.sh -L unit
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/build.sh
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure "$@"
