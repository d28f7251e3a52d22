#!/usr/bin/env bash
# Builds the CPU backend with AddressSanitizer + UndefinedBehaviorSanitizer and runs the whole test suite under them.
# Any sanitizer report fails the run (halt_on_error / -fno-sanitize-recover), and the summary line says how many
# tests passed. The CUDA backend is left out: the sanitizers do not see into device code, and CUDA's runtime trips
# ASan's leak checker on its own allocations.
#
#   tools/sanitize.sh [build-dir]    (default: build-asan)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build-asan}"
tools/install_deps.sh >/dev/null
flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMTINET_CUDA=OFF \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
cmake --build "$build" -j "$(nproc)"
# Leak checking is on and no suppressions are used (they would hide real reports too).
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:detect_leaks=1:strict_string_checks=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
log="$build/sanitize.log"
status=0
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" --timeout 1800 2>&1 | tee "$log" || status=$?
echo "sanitizer reports: $(grep -c -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$log" || true)"
grep -E "tests passed|tests failed" "$log" | tail -n 1
exit "$status"
