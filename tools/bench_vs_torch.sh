#!/usr/bin/env bash
# mtinet against PyTorch on the CPU, side by side in one run: the same NYUD MTI-Net training step (HRNet-W18-small-v2,
# Adam, semseg + depth with deep supervision) and the same evaluation pass (eval mode, forward only) at the same
# batch, size and thread count, each measured right after the other so that both see the same machine. Prints one
# table: median ms per step (or pass) of each, the ratio (ours / PyTorch, below 1 = faster) and the peak memory
# (RSS) of each.
# PyTorch (Debian's python3-torch) is a development tool here: without it the script says so and exits 0.
# Usage: tools/bench_vs_torch.sh [--quick] [build-dir]
#   --quick   batch 2 at 256x320 only (batch 8 at 480x640 adds ~5 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
if [ "${1:-}" = "--quick" ]; then quick=1; shift; fi
build=${1:-build}
mtinet="$build/mtinet"
[ -x "$mtinet" ] || { echo "no $mtinet: build first (tools/run_tests.sh)"; exit 1; }
python=""
for p in /usr/bin/python3 python3; do
  if command -v "$p" >/dev/null && "$p" -c "import torch" 2>/dev/null; then python=$p; break; fi
done
[ -n "$python" ] || { echo "bench_vs_torch: no python3 with torch (apt-get install python3-torch): skipped"; exit 0; }

cases=("2 256x320")
[ "$quick" -eq 1 ] || cases+=("8 480x640")
steps=3
echo "mtinet vs PyTorch $("$python" -c 'import torch; print(torch.__version__)') on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), load $(cut -d' ' -f1 /proc/loadavg)"
printf '%-6s %-6s %-9s %-7s %12s %12s %7s %10s %10s\n' mode batch size threads "mtinet ms" "torch ms" ratio \
  "mtinet MiB" "torch MiB"
for c in "${cases[@]}"; do
  read -r batch size <<<"$c"
  for mode in train eval; do
    flag=()
    [ "$mode" = train ] || flag=(--eval)
    for threads in 1 2; do
      ours=$(OMP_NUM_THREADS=$threads "$mtinet" bench train --config train/configs/nyud_mtinet.json --device cpu \
        --batch "$batch" --size "$size" --steps "$steps" --warmup 1 "${flag[@]}" 2>&1)
      theirs=$(OMP_NUM_THREADS=$threads "$python" tools/torch_bench_train.py --device cpu --modes eager_fp32 \
        --batch "$batch" --size "$size" --steps "$steps" --warmup 1 "${flag[@]}" 2>&1)
      our_ms=$(sed -n 's/.*mean, \([0-9.]*\) ms\/step median.*/\1/p' <<<"$ours")
      our_mib=$(sed -n 's/^peak memory: \([0-9.]*\) MiB.*/\1/p' <<<"$ours")
      their_ms=$(sed -n 's/.*ms_per_step=\([0-9.]*\).*/\1/p' <<<"$theirs")
      their_mib=$(sed -n 's/.*peak_mib=\([0-9.]*\).*/\1/p' <<<"$theirs")
      if [ -z "$our_ms" ] || [ -z "$their_ms" ]; then
        echo "a run failed; mtinet said: $(tail -n 2 <<<"$ours"); PyTorch said: $(tail -n 2 <<<"$theirs")"
        exit 1
      fi
      ratio=$(awk -v a="$our_ms" -v b="$their_ms" 'BEGIN {printf "%.2f", a / b}')
      printf '%-6s %-6s %-9s %-7s %12s %12s %7s %10s %10s\n' "$mode" "$batch" "$size" "$threads" "$our_ms" \
        "$their_ms" "$ratio" "$our_mib" "$their_mib"
    done
  done
done
