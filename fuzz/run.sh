#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for FUZZ_SECONDS (default 30).
# A crash leaves its input in build-fuzz/artifacts/ and fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
seconds="${FUZZ_SECONDS:-30}"
CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCOBRADOR_FUZZ=ON -DBUILD_TESTING=OFF \
  -DCOBRADOR_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
targets=(portfolio_csv decimal whatsapp_webhook twilio_webhook nlu payments cluster_change
  provider_events instruments receipt cep own_replies)
cmake --build build-fuzz --target "${targets[@]/#/fuzz_}"
mkdir -p build-fuzz/artifacts
for t in "${targets[@]}"; do
  work="build-fuzz/corpus/$t"
  mkdir -p "$work"
  echo "== fuzz_$t for ${seconds}s"
  "build-fuzz/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix=build-fuzz/artifacts/ "$work" "fuzz/corpus/$t" 2>&1 | tail -n 2
done
