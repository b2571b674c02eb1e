#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds, and runs every test (unit and end-to-end) on both
# ledger backends: SQLite, and PostgreSQL (the pg.* tests; CTest starts a throwaway cluster as a
# non-root user and stops it, see deploy/pg-cluster.sh).
# Extra arguments go to ctest, e.g. deploy/test.sh -L unit, or -LE postgres for SQLite only.
# Tests run on every core (JOBS=N to change that).
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/build.sh
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure --no-tests=error \
  --parallel "${JOBS:-$(nproc)}" "$@"
