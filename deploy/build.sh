#!/usr/bin/env bash
# Installs the dependencies (Debian 12 packages) and builds cobrador into build/ (or $BUILD_DIR).
# Extra arguments go to CMake's configure step, e.g. -DCOBRADOR_SANITIZE="address;undefined".
# JOBS sets the build's parallelism (default: every core).
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
build_dir="${BUILD_DIR:-build}"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S . -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" "$@"
cmake --build "$build_dir" --parallel "${JOBS:-$(nproc)}"
