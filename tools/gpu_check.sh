#!/usr/bin/env bash
# One-shot GPU check, meant for a fresh H100/H200 machine: configure and build the CUDA backend for sm_90, list
# the GPUs, run every CUDA test (test names start with "cuda:"), run the kernel benchmark when the binary has one,
# and print a short summary table last, followed by the benchmark's table -- also when a step fails. Finishes
# within 8 minutes from a clean tree.
#
#   tools/gpu_check.sh                      # from the repository root or anywhere inside it
#   BUILD_DIR=build-gpu tools/gpu_check.sh  # another build folder (default: build)
#   GPU_CHECK_BUDGET_S=470                  # the whole run's time budget in seconds; steps are cut to fit
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${BUILD_DIR:-build}"
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
LOGS="$BUILD/gpu_check"
BUDGET="${GPU_CHECK_BUDGET_S:-470}"
JOBS="$(nproc 2>/dev/null || echo 4)"
START=$SECONDS

# One row per step, printed by the EXIT trap so the table comes last whatever happened.
ROWS=()
GPU_NAME="?"
row() { ROWS+=("$(printf '%-12s %-8s %6ss  %s' "$1" "$2" "$3" "${4:-}")"); }
# shellcheck disable=SC2317  # called by the EXIT trap
summary() {
  local rc=$?
  echo
  echo "=================== gpu_check summary ==================="
  printf '%-12s %-8s %7s  %s\n' "step" "status" "time" "details"
  for r in "${ROWS[@]}"; do echo "$r"; done
  printf '%-12s %-8s %6ss  %s\n' "total" "" "$((SECONDS - START))" "gpu: $GPU_NAME; logs: $LOGS"
  if [[ -s "$LOGS/bench.log" ]]; then
    echo "----------- kernel benchmark (mtinet bench kernels --device cuda) -----------"
    cat "$LOGS/bench.log"
  fi
  echo "=========================================================="
  exit "$rc"
}
trap summary EXIT

# Seconds left for a step: what remains of the budget minus `reserve` for the steps after it (at least 10).
time_left() {
  local left=$((BUDGET - (SECONDS - START) - $1))
  ((left < 10)) && left=10
  echo "$left"
}

mkdir -p "$LOGS"
rm -f "$LOGS/bench.log"  # the summary shows this run's table only
cd "$ROOT"

# ---- the GPU ----
t0=$SECONDS
if nvidia-smi -L | tee "$LOGS/nvidia-smi.txt"; then
  GPU_NAME="$(head -n1 "$LOGS/nvidia-smi.txt" | sed -e 's/^GPU [0-9]*: //' -e 's/ (UUID.*//')"
  row "gpu" "ok" $((SECONDS - t0)) "$(wc -l <"$LOGS/nvidia-smi.txt") device(s)"
else
  row "gpu" "MISSING" $((SECONDS - t0)) "nvidia-smi -L failed: the CUDA tests will report themselves skipped"
fi

# ---- configure ----
t0=$SECONDS
GENERATOR=()
if [[ ! -f "$BUILD/CMakeCache.txt" ]] && command -v ninja >/dev/null; then GENERATOR=(-G Ninja); fi
echo "== configure ($BUILD)"
if ! timeout "$(time_left 300)" cmake -S "$ROOT" -B "$BUILD" "${GENERATOR[@]}" -DCMAKE_BUILD_TYPE=Release \
     -DMTINET_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 >"$LOGS/configure.log" 2>&1; then
  tail -n 30 "$LOGS/configure.log"
  row "configure" "FAILED" $((SECONDS - t0)) "see $LOGS/configure.log"
  exit 1
fi
row "configure" "ok" $((SECONDS - t0)) "Release, sm_90${GENERATOR[*]:+, Ninja}"

# ---- build ----
t0=$SECONDS
echo "== build (-j$JOBS)"
build_rc=0
timeout "$(time_left 90)" cmake --build "$BUILD" -j "$JOBS" >"$LOGS/build.log" 2>&1 || build_rc=$?
BUILD_S=$((SECONDS - t0))
if ((build_rc != 0)); then
  grep -E "error|FAILED" "$LOGS/build.log" | head -n 40 || true
  tail -n 20 "$LOGS/build.log"
  [[ $build_rc == 124 ]] && why="timed out" || why="exit $build_rc"
  row "build" "FAILED" "$BUILD_S" "$why; see $LOGS/build.log"
  exit 1
fi
warnings=$(grep -c "warning" "$LOGS/build.log" || true)
row "build" "ok" "$BUILD_S" "$warnings warning line(s)"

# ---- CUDA tests ----
t0=$SECONDS
echo "== CUDA tests (ctest -R '^cuda:')"
"$BUILD/mtinet" info || true
test_rc=0
(cd "$BUILD" && timeout "$(time_left 60)" ctest -R '^cuda:' -j 4 --output-on-failure) 2>&1 | tee "$LOGS/ctest.log" \
  || test_rc=$?
total=$(grep -cE 'Test +#[0-9]+: ' "$LOGS/ctest.log" || true)
passed=$(grep -E 'Test +#[0-9]+: ' "$LOGS/ctest.log" | grep -c ' Passed ' || true)
skipped=$(grep -E 'Test +#[0-9]+: ' "$LOGS/ctest.log" | grep -c '\*\*\*Skipped' || true)
failed=$((total - passed - skipped))
details="$passed passed, $failed failed, $skipped skipped (of $total)"
if ((test_rc == 124)); then
  row "cuda tests" "TIMEOUT" $((SECONDS - t0)) "$details before the time limit"
elif ((failed > 0 || test_rc != 0 || total == 0)); then
  row "cuda tests" "FAILED" $((SECONDS - t0)) "$details"
elif ((skipped > 0)); then
  row "cuda tests" "SKIPPED" $((SECONDS - t0)) "$details (no usable GPU?)"
else
  row "cuda tests" "ok" $((SECONDS - t0)) "$details"
fi

# ---- kernel benchmark ----
t0=$SECONDS
bench_rc=0
if [[ -x "$BUILD/mtinet" ]] && "$BUILD/mtinet" help 2>/dev/null | grep -qE '^ +bench( |$)'; then
  echo "== benchmark (mtinet bench kernels --device cuda)"
  timeout "$(time_left 5)" "$BUILD/mtinet" bench kernels --device cuda 2>&1 | tee "$LOGS/bench.log" || bench_rc=$?
  if ((bench_rc == 0)); then
    row "benchmark" "ok" $((SECONDS - t0)) "see $LOGS/bench.log"
  else
    row "benchmark" "FAILED" $((SECONDS - t0)) "exit $bench_rc; see $LOGS/bench.log"
  fi
else
  echo "== benchmark: skipped ('mtinet bench kernels' is not available in this build yet)"
  row "benchmark" "skipped" 0 "mtinet has no 'bench' command yet"
fi

# Skipped CUDA tests mean the GPU was not usable, which on a GPU check is a failure too.
((test_rc == 0 && failed == 0 && skipped == 0 && total > 0 && bench_rc == 0)) || exit 1
exit 0
