#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds, and runs the server with the demo portfolio
# (./cobrador-demo.db, sandbox channel, no provider account needed). Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/build.sh
exec build/cobrador serve --demo "$@"
