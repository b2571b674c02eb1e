#!/usr/bin/env bash
# Builds (Release) and runs the benchmarks; prints their figures. Not part of the test suite.
# Then fuzzes every parser for longer than CI does (BENCH_FUZZ_SECONDS per target, default 300;
# 0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=build-release BUILD_TYPE=Release bash deploy/build.sh
echo "== portfolio import"
build-release/bench/bench_import "${IMPORT_ROWS:-100000}"
echo "== webhook load: WhatsApp and SMS turns, status callbacks, duplicates, forgeries"
# seconds per phase, debtors, fixed arrival rates (events/s)
build-release/bench/bench_webhooks "${WEBHOOK_SECONDS:-10}" "${WEBHOOK_DEBTORS:-20000}" \
  ${WEBHOOK_RATES:-1000 3000 5000}
if [ "${BENCH_POSTGRES:-1}" != 0 ]; then
  echo "== webhook load on PostgreSQL (a local cluster, fsync and synchronous_commit on)"
  pg_dir=$(mktemp -d /tmp/cobrador-bench-pg-XXXXXX)
  pg=$(bash deploy/pg-cluster.sh start "$pg_dir" --durable)
  trap 'bash deploy/pg-cluster.sh stop "$pg_dir"' EXIT
  BENCH_DB="$pg" build-release/bench/bench_webhooks "${WEBHOOK_SECONDS:-10}" \
    "${WEBHOOK_DEBTORS:-20000}" ${WEBHOOK_RATES:-1000 3000 5000}
  bash deploy/pg-cluster.sh stop "$pg_dir"
  trap - EXIT
fi
echo "== the console's search and lists on a large ledger"
bash bench/search_bench.sh build-release/cobrador "${SEARCH_DEBTORS:-100000}" \
  "${SEARCH_REQUESTS:-50}"
echo "== NLU and dialog step"
build-release/bench/bench_dialog "${DIALOG_MESSAGES:-20000}"
if [ "${BENCH_FUZZ_SECONDS:-300}" != 0 ]; then
  echo "== fuzzing every parser, ${BENCH_FUZZ_SECONDS:-300} s each"
  FUZZ_SECONDS="${BENCH_FUZZ_SECONDS:-300}" bash fuzz/run.sh
fi
