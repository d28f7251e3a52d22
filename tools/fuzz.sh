#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/fuzz_<target>.cpp) with clang and -fsanitize=fuzzer,address,undefined, then
# fuzzes each for a bounded time from a copy of its seed corpus, and reports the executions and findings per target.
# Usage: tools/fuzz.sh [seconds-per-target [target...]]   (default 60 s, every target). Exits 1 on any finding.
#   MTINET_FUZZ_TARGETS  targets to run when none are named (default: "safetensors npy image config torch mat split")
#   MTINET_FUZZ_BUILD    build folder (default: build-fuzz)
#   MTINET_FUZZ_SOURCE   source tree to build (default: this checkout; its CMakeLists.txt must include
#                        tests/fuzz/fuzz.cmake)
#   MTINET_FUZZ_JOBS     parallel compile jobs (default: 2)
# A finding is a crash, a sanitizer report, an exception other than mtinet::Error, a leak, an input running over
# 10 s, or more than 2 GB allocated at once or in all. Its input is saved under <build>/fuzz-work/<target>/; keep it
# as a regression: copy it into tests/fuzz/regressions/<target>/ (mtinet_tests replays that folder).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
seconds=${1:-60}
read -ra targets <<<"${MTINET_FUZZ_TARGETS:-safetensors npy image config torch mat split}"
[ $# -gt 1 ] && targets=("${@:2}")  # e.g. tools/fuzz.sh 300 torch mat
build=$(realpath -m "${MTINET_FUZZ_BUILD:-build-fuzz}")
source_dir=$(realpath "${MTINET_FUZZ_SOURCE:-.}")

command -v clang++ >/dev/null ||
  { echo "fuzz.sh: needs clang++ (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }
grep -q "tests/fuzz/fuzz.cmake" "$source_dir/CMakeLists.txt" ||
  { echo "fuzz.sh: $source_dir/CMakeLists.txt lacks include(tests/fuzz/fuzz.cmake)" >&2; exit 2; }

# Instrument the whole library, not just the targets: the parsers live in mtinet_lib. No NDEBUG (build type None),
# so stb_image's own asserts are checked too. UB aborts at once (-fno-sanitize-recover) and so counts as a crash.
# FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION (the usual name) lets a parser skip a checksum the fuzzer cannot forge,
# so mutations reach the code behind it: the .pth zip reader's CRC-32 (core/torch_zip.cpp).
flags="-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=undefined -O1 -g -fno-omit-frame-pointer"
flags+=" -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION"
cmake -S "$source_dir" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DMTINET_CUDA=OFF -DMTINET_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS="$flags" >/dev/null
cmake --build "$build" -j "${MTINET_FUZZ_JOBS:-2}" --target "${targets[@]/#/fuzz_}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
limits=(-rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10)
summary=()
failed=0
for t in "${targets[@]}"; do
  bin="$build/fuzz_$t"
  work="$build/fuzz-work/$t"
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/findings"
  cp "$repo/tests/fuzz/corpus/$t/"* "$work/corpus/"  # libFuzzer adds its new inputs here, not to the repo
  log="$work/fuzz.log"
  dict=()
  [ -f "$repo/tests/fuzz/dicts/$t.dict" ] && dict=(-dict="$repo/tests/fuzz/dicts/$t.dict")
  echo "== fuzz_$t: replaying regressions, then fuzzing for ${seconds}s (log: $log)"
  status=0
  # The regression inputs first, each run once: they may be larger than what the fuzzer itself generates.
  regressions=("$repo/tests/fuzz/regressions/$t/"*)
  if [ -e "${regressions[0]}" ]; then
    "$bin" "${limits[@]}" -artifact_prefix="$work/findings/" "${regressions[@]}" >"$log" 2>&1 || status=$?
  fi
  if [ "$status" -eq 0 ]; then
    "$bin" "${limits[@]}" "${dict[@]}" -max_total_time="$seconds" -print_final_stats=1 \
      -artifact_prefix="$work/findings/" "$work/corpus" >>"$log" 2>&1 || status=$?
  fi
  runs=$(grep -o "stat::number_of_executed_units: *[0-9]*" "$log" | grep -o "[0-9]*$" | tail -n 1 || true)
  findings=$(find "$work/findings" -type f | wc -l)
  if [ "$status" -ne 0 ] || [ "$findings" -gt 0 ]; then
    failed=1
    inputs=$(find "$work/findings" -type f -printf "%f ")
    summary+=("fuzz_$t: FINDING (exit $status) after ${runs:-?} executions; inputs in $work/findings: $inputs")
    grep -m 3 -E "ERROR: |runtime error|terminate called|==ERROR" "$log" | sed 's/^/    /' || true
  else
    summary+=("fuzz_$t: ok, ${runs:-?} executions in ${seconds}s, corpus $(find "$work/corpus" -type f | wc -l) inputs")
  fi
done
echo
printf "%s\n" "${summary[@]}"
exit "$failed"
