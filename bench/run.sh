#!/usr/bin/env bash
# Builds (Release) and runs the benchmarks; prints their figures. Not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=build-release BUILD_TYPE=Release bash deploy/build.sh
echo "== portfolio import"
build-release/bench/bench_import "${IMPORT_ROWS:-100000}"
echo "== webhook ingest (signed WhatsApp messages, replies to the sandbox)"
build-release/bench/bench_webhooks "${WEBHOOK_EVENTS:-20000}" "${WEBHOOK_CONNECTIONS:-32}"
echo "== NLU and dialog step"
build-release/bench/bench_dialog "${DIALOG_MESSAGES:-20000}"
