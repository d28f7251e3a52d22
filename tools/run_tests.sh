#!/usr/bin/env bash
# Builds mtinet (with the CUDA backend when the toolkit is installed) and runs every test through ctest.
# Usage: tools/run_tests.sh [build-dir]   (default: build). Extra CMake flags via MTINET_CMAKE_FLAGS,
# e.g. MTINET_CMAKE_FLAGS=-DMTINET_CUDA=OFF for a CPU-only build.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
tools/install_deps.sh
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH=/usr/local/cuda/bin:$PATH; fi
# shellcheck disable=SC2086
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release ${MTINET_CMAKE_FLAGS:-}
cmake --build "$build" -j "$(nproc)"
# ctest lists the skipped (GPU-only) tests after its summary line; repeat the summary so the run ends with it.
log="$build/ctest.log"
status=0
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" 2>&1 | tee "$log" || status=$?
grep -E "tests passed|tests failed" "$log" | tail -n 1
exit "$status"
