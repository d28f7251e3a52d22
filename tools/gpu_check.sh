#!/usr/bin/env bash
# One-shot GPU check for a fresh H100/H200 machine, also a bare one (only the CUDA toolkit or the CUDA/cuDNN Python
# wheels, CMake and a compiler): finds cuDNN/cuBLAS wherever they are, takes the binaries from the archive that
# tools/gpu_pack.sh made beforehand (.gpu_bundle/mtinet_sm90.tar.gz) or else builds for sm_90, then
#   1. `mtinet info` (driver, runtime, libraries, GPUs, or why no GPU is usable),
#   2. every CUDA test (names start with "cuda:"), each in its own process so a kernel fault cannot poison the rest;
#      a failing test is rerun with MTINET_CUDA_SYNC=1 so the error names the kernel that faulted,
#   3. the kernel benchmark, then `mtinet bench train` of NYUD MTI-Net at batch 8, 480x640,
#   4. the same training step in PyTorch when the machine has it (tools/torch_bench_train.py: eager fp32,
#      bf16 autocast + channels_last, torch.compile),
# and ends with a table: each step, each failing test by name, and our step time beside PyTorch's with the ratios.
# It stays within GPU_CHECK_BUDGET_S (default 470 s): each step is cut to what is left.
#
#   tools/gpu_check.sh
#   GPU_CHECK_LOGS=DIR     where the logs go (default $OUT/gpu_check when OUT is set, else BUILD/gpu_check); at most
#                          seven files, so they fit where a remote runner copies back only a few
#   BUILD_DIR=build-gpu    build folder when building from source (default build-sm90)
#   CUDNN_ROOT=DIR         a cuDNN installation to use before any other
#   GPU_CHECK_TORCH=0      skip the PyTorch comparison
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${BUILD_DIR:-build-sm90}"
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
if [[ -n "${GPU_CHECK_LOGS:-}" ]]; then LOGS="$GPU_CHECK_LOGS"
elif [[ -n "${OUT:-}" ]]; then LOGS="$OUT/gpu_check"
else LOGS="$BUILD/gpu_check"; fi
BUDGET="${GPU_CHECK_BUDGET_S:-470}"
JOBS="$(nproc 2>/dev/null || echo 4)"
START=$SECONDS
ORIG_LD_LIBRARY_PATH="${LD_LIBRARY_PATH:-}"  # PyTorch loads its own cuDNN and refuses a different one on the path
mkdir -p "$LOGS"
rm -f "$LOGS"/*.log "$LOGS"/*.txt
cd "$ROOT" || exit 1

ROWS=()
FAILING=()
SPEED=()
GPU_NAME="?"
row() { ROWS+=("$(printf '%-12s %-8s %5ss  %s' "$1" "$2" "$3" "${4:-}")"); }
# shellcheck disable=SC2317  # called by the EXIT trap
summary() {
  local rc=$?
  {
    echo
    echo "=================== gpu_check summary ==================="
    printf '%-12s %-8s %6s  %s\n' "step" "status" "time" "details"
    for r in "${ROWS[@]}"; do echo "$r"; done
    printf '%-12s %-8s %5ss  %s\n' "total" "" "$((SECONDS - START))" "gpu: $GPU_NAME; logs: $LOGS"
    if ((${#FAILING[@]})); then
      echo "failing tests (rerun with MTINET_CUDA_SYNC=1; output in tests.log):"
      for f in "${FAILING[@]}"; do echo "  $f"; done
    fi
    if ((${#SPEED[@]})); then
      echo "NYUD MTI-Net training step, batch 8, 480x640 (median; ratio = PyTorch time / mtinet time, >1: we are faster):"
      for s in "${SPEED[@]}"; do echo "  $s"; done
    fi
    echo "=========================================================="
  } | tee "$LOGS/summary.txt"
  exit "$rc"
}
trap summary EXIT

# Seconds left for a step: what remains of the budget minus `reserve` for the steps after it (at least 10).
time_left() {
  local left=$((BUDGET - (SECONDS - START) - $1))
  ((left < 10)) && left=10
  echo "$left"
}

# ---- the GPU and the CUDA libraries ----
t0=$SECONDS
{
  nvidia-smi || echo "nvidia-smi failed"
  echo
} >"$LOGS/env.txt" 2>&1
if nvidia-smi -L >/dev/null 2>&1; then
  GPU_NAME="$(nvidia-smi -L | head -n1 | sed -e 's/^GPU [0-9]*: //' -e 's/ (UUID.*//')"
  row "gpu" "ok" $((SECONDS - t0)) "$(nvidia-smi -L | wc -l) device(s)"
else
  row "gpu" "MISSING" $((SECONDS - t0)) "nvidia-smi -L failed"
fi

# The first folder holding one of the names: CUDNN_ROOT, the toolkit, the system, then the Python wheels
# (nvidia-cudnn-cu13, nvidia-cublas, nvidia-nccl-cu13 install under site-packages/nvidia/<lib>/lib).
PY_SITE="$(python3 -c 'import site, sys; print(" ".join(site.getsitepackages() + [site.getusersitepackages()]))' \
  2>/dev/null || true)"
lib_dir() {
  local d n
  for d in ${CUDNN_ROOT:+$CUDNN_ROOT/lib $CUDNN_ROOT/lib64} /usr/local/cuda/lib64 /usr/local/cuda/lib \
           /usr/local/cuda/targets/x86_64-linux/lib /usr/lib/x86_64-linux-gnu; do
    for n in "$@"; do [[ -e "$d/$n" ]] && { echo "$d"; return; }; done
  done
  for d in $PY_SITE; do
    for n in "$@"; do
      local hit
      hit="$(find "$d/nvidia" -maxdepth 3 -name "$n" 2>/dev/null | head -n1)"
      [[ -n "$hit" ]] && { dirname "$hit"; return; }
    done
  done
}
CUDNN_LIB="$(lib_dir libcudnn.so.9)"
CUBLAS_LIB="$(lib_dir libcublas.so.13)"
CUDART_LIB="$(lib_dir libcudart.so.13)"
NCCL_LIB="$(lib_dir libnccl.so.2)"
for d in "$CUDNN_LIB" "$CUBLAS_LIB" "$CUDART_LIB" "$NCCL_LIB"; do
  [[ -n "$d" ]] && export LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
done
{
  echo "cuDNN: ${CUDNN_LIB:-not found}"
  echo "cuBLAS: ${CUBLAS_LIB:-not found}"
  echo "cudart: ${CUDART_LIB:-not found}"
  echo "NCCL: ${NCCL_LIB:-not found}"
} | tee -a "$LOGS/env.txt"
libs="cudnn in ${CUDNN_LIB:-MISSING}, cublas in ${CUBLAS_LIB:-MISSING}"
[[ -n "$CUDNN_LIB" && -n "$CUBLAS_LIB" ]] && row "libraries" "ok" 0 "$libs" || row "libraries" "MISSING" 0 "$libs"

# ---- the binaries: the packed archive, or a build ----
t0=$SECONDS
BUNDLE="$ROOT/.gpu_bundle/mtinet_sm90.tar.gz"
if [[ -f "$BUNDLE" ]]; then
  BIN="$BUILD/bundle"
  rm -rf "$BIN" && mkdir -p "$BIN"
  tar -C "$BIN" -xzf "$BUNDLE"
  export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$BIN/lib"  # after CUDA's: only fills in what the machine lacks
  MTINET="$BIN/bin/mtinet"
  TESTS="$BIN/bin/mtinet_tests"
  built_from="$(head -n1 "$BIN/BUILD_INFO")"
  head_commit="$(git rev-parse HEAD 2>/dev/null || echo unknown)"  # unknown where the tree came without .git
  # An archive packed before the last commit tests old code: say so rather than pass silently.
  if [[ "$built_from" == "commit $head_commit" || "$head_commit" == unknown ]]; then
    row "binaries" "ok" $((SECONDS - t0)) "from the archive: $built_from"
  else
    row "binaries" "STALE" $((SECONDS - t0)) "archive $built_from, tree at $head_commit: rerun tools/gpu_pack.sh"
  fi
else
  if ! command -v nvcc >/dev/null && [[ -x /usr/local/cuda/bin/nvcc ]]; then export PATH=/usr/local/cuda/bin:$PATH; fi
  if [[ -z "${CUDNN_ROOT:-}" && -n "$CUDNN_LIB" ]]; then
    CUDNN_ROOT="$(dirname "$CUDNN_LIB")"  # lib/'s parent: a wheel's nvidia/cudnn holds include/ and lib/
    export CUDNN_ROOT
  fi
  GENERATOR=()
  if [[ ! -f "$BUILD/CMakeCache.txt" ]] && command -v ninja >/dev/null; then GENERATOR=(-G Ninja); fi
  echo "== configure and build ($BUILD, -j$JOBS)"
  if ! { timeout "$(time_left 300)" cmake -S "$ROOT" -B "$BUILD" "${GENERATOR[@]}" -DCMAKE_BUILD_TYPE=Release \
           -DMTINET_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 &&
         timeout "$(time_left 200)" cmake --build "$BUILD" -j "$JOBS"; } >"$LOGS/build.log" 2>&1; then
    grep -E "error|Could NOT|not found|FAILED" "$LOGS/build.log" | head -n 30
    row "build" "FAILED" $((SECONDS - t0)) "see build.log (tools/gpu_pack.sh on a build machine avoids building here)"
    exit 1
  fi
  MTINET="$BUILD/mtinet"
  TESTS="$BUILD/mtinet_tests"
  row "build" "ok" $((SECONDS - t0)) "$(grep -c warning "$LOGS/build.log") warning line(s)"
fi

# ---- mtinet info ----
t0=$SECONDS
"$MTINET" info 2>&1 | tee -a "$LOGS/env.txt"
if grep -q "CUDA GPU available: yes" "$LOGS/env.txt"; then
  row "info" "ok" $((SECONDS - t0)) "$(grep -m1 '^GPU 0' "$LOGS/env.txt" | cut -c1-70)"
else
  row "info" "NO GPU" $((SECONDS - t0)) "$(grep -m1 'CUDA GPU available' "$LOGS/env.txt" | cut -c1-90)"
fi

# ---- CUDA tests, one process each, 4 at a time ----
t0=$SECONDS
echo "== CUDA tests"
results="$(mktemp -d)"
mapfile -t names < <("$TESTS" --list-test-cases -tc='cuda:*' 2>/dev/null | grep '^cuda:')
run_one() {  # index name: writes status, seconds and the output to $results/<index>.*
  local i=$1 name=$2 t=$SECONDS rc=0
  # doctest splits filters at commas; a backslash keeps one in the name.
  timeout 240 "$TESTS" --test-case="${name//,/\\,}" >"$results/$i.out" 2>&1 || rc=$?
  echo "$rc $((SECONDS - t))" >"$results/$i.rc"
}
deadline=$((SECONDS + $(time_left 200)))
for i in "${!names[@]}"; do
  while (($(jobs -rp | wc -l) >= 4)); do sleep 0.2; done
  ((SECONDS > deadline)) && break
  run_one "$i" "${names[$i]}" &
done
wait
passed=0 failed=0 skipped=0 notrun=0
for i in "${!names[@]}"; do
  name="${names[$i]}"
  if [[ ! -f "$results/$i.rc" ]]; then
    notrun=$((notrun + 1)); FAILING+=("NOT RUN (time budget): $name"); continue
  fi
  read -r rc secs <"$results/$i.rc"
  {
    echo "---- [$rc, ${secs}s] $name"
    cat "$results/$i.out"
  } >>"$LOGS/tests.log"
  case "$rc" in
    0) passed=$((passed + 1)) ;;
    77) skipped=$((skipped + 1)) ;;
    *)
      failed=$((failed + 1))
      FAILING+=("$name (exit $rc)")
      echo "---- rerun with MTINET_CUDA_SYNC=1: $name" >>"$LOGS/tests.log"
      MTINET_CUDA_SYNC=1 timeout 120 "$TESTS" --test-case="${name//,/\\,}" >>"$LOGS/tests.log" 2>&1
      ;;
  esac
done
rm -rf "$results"
details="$passed passed, $failed failed, $skipped skipped, $notrun not run (of ${#names[@]})"
if ((${#names[@]} == 0)); then row "cuda tests" "FAILED" $((SECONDS - t0)) "no CUDA tests listed by $TESTS"
elif ((failed + notrun > 0)); then row "cuda tests" "FAILED" $((SECONDS - t0)) "$details"
elif ((skipped > 0)); then row "cuda tests" "SKIPPED" $((SECONDS - t0)) "$details (no usable GPU?)"
else row "cuda tests" "ok" $((SECONDS - t0)) "$details"; fi

# ---- benchmarks ----
t0=$SECONDS
echo "== mtinet bench kernels --device cuda"
if timeout "$(time_left 230)" "$MTINET" bench kernels --device cuda >"$LOGS/bench_kernels.log" 2>&1; then
  row "bench kern" "ok" $((SECONDS - t0)) "bench_kernels.log"
else
  row "bench kern" "FAILED" $((SECONDS - t0)) "$(tail -n1 "$LOGS/bench_kernels.log" | cut -c1-90)"
fi

t0=$SECONDS
echo "== mtinet bench train --device cuda (NYUD MTI-Net, batch 8, 480x640)"
ours_ms=""
if timeout "$(time_left 170)" "$MTINET" bench train --config train/configs/nyud_mtinet.json --device cuda --batch 8 \
     --size 480x640 >"$LOGS/bench_train.log" 2>&1; then
  ours_ms="$(grep -oE '[0-9.]+ ms/step median' "$LOGS/bench_train.log" | grep -oE '^[0-9.]+')"
  first="$(grep -oE 'algorithm search on cuda\): [0-9.]+ ms' "$LOGS/bench_train.log" | grep -oE '[0-9.]+ ms')"
  peak="$(grep -oE 'peak memory: [0-9.]+ MiB' "$LOGS/bench_train.log" | grep -oE '[0-9.]+ MiB')"
  row "bench train" "ok" $((SECONDS - t0)) "$ours_ms ms/step; first step $first; peak $peak"
  SPEED+=("$(printf '%-22s %9s ms/step  %s' "mtinet fp32 (TF32)" "$ours_ms" "peak $peak")")
else
  row "bench train" "FAILED" $((SECONDS - t0)) "$(grep -m1 -i error "$LOGS/bench_train.log" | cut -c1-90)"
fi
# The price of determinism: the same step with cuDNN's non-deterministic backward algorithms allowed.
t0=$SECONDS
if [[ -n "$ours_ms" ]] && MTINET_CUDNN_DETERMINISTIC=0 timeout "$(time_left 150)" "$MTINET" bench train \
     --config train/configs/nyud_mtinet.json --device cuda --batch 8 --size 480x640 >>"$LOGS/bench_train.log" 2>&1; then
  nd_ms="$(grep -oE '[0-9.]+ ms/step median' "$LOGS/bench_train.log" | tail -n1 | grep -oE '^[0-9.]+')"
  row "bench nondet" "ok" $((SECONDS - t0)) "$nd_ms ms/step with MTINET_CUDNN_DETERMINISTIC=0"
  SPEED+=("$(printf '%-22s %9s ms/step  %s' "mtinet fp32 nondet" "$nd_ms" "(cuDNN may use atomics)")")
fi

# ---- PyTorch on the same GPU ----
t0=$SECONDS
if [[ "${GPU_CHECK_TORCH:-1}" == 0 ]]; then
  row "pytorch" "skipped" 0 "GPU_CHECK_TORCH=0"
elif ! python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' >/dev/null 2>&1; then
  row "pytorch" "skipped" 0 "no PyTorch with CUDA on this machine"
else
  echo "== PyTorch (tools/torch_bench_train.py)"
  left=$(time_left 5)
  LD_LIBRARY_PATH="$ORIG_LD_LIBRARY_PATH" PYTHONUNBUFFERED=1 timeout "$left" python3 tools/torch_bench_train.py --device cuda --batch 8 --size 480x640 \
    --compile-timeout $((left / 2)) >"$LOGS/torch.log" 2>&1
  n=0
  while read -r line; do
    mode="$(sed -nE 's/.*mode=([a-z0-9_]+).*/\1/p' <<<"$line")"
    ms="$(sed -nE 's/.*ms_per_step=([0-9.]+).*/\1/p' <<<"$line")"
    if [[ -n "$ms" ]]; then
      n=$((n + 1))
      ratio=""
      [[ -n "$ours_ms" ]] && ratio="$(awk -v t="$ms" -v o="$ours_ms" 'BEGIN{printf "ratio %.2f", t / o}')"
      peak="$(sed -nE 's/.*peak_mib=([0-9.]+).*/\1/p' <<<"$line")"
      SPEED+=("$(printf '%-22s %9s ms/step  peak %s MiB  %s' "pytorch $mode" "$ms" "$peak" "$ratio")")
    else
      SPEED+=("pytorch $mode: $(sed -nE 's/.*(status=.*)/\1/p' <<<"$line" | cut -c1-100)")
    fi
  done < <(grep '^torch_bench ' "$LOGS/torch.log")
  row "pytorch" "$( ((n > 0)) && echo ok || echo FAILED)" $((SECONDS - t0)) "$n mode(s) timed; torch.log"
fi

((failed == 0 && notrun == 0 && skipped == 0 && ${#names[@]} > 0)) && [[ -n "$ours_ms" ]]
