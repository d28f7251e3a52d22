#!/usr/bin/env bash
# 2 ranks x micro-batch 2 = 1 process with gradient accumulation over the same two micro-batches (issue 13, item 4):
# the same parameters after 4 steps and the same logged losses, bit for bit in f64; in f32 within rtol 1e-5 (the
# summation order is the same on both paths, so it is exact there too unless MPI reorders the sum).
set -euo pipefail
source "$(dirname "$0")/common.sh"

for dtype in f64 f32; do
  train 2 "$work/ranks_$dtype" --set dtype=$dtype
  train 1 "$work/accum_$dtype" --set dtype=$dtype --set grad_accumulation=2
  [ "$(step_losses "$work/ranks_$dtype" | wc -l)" -eq 4 ] || fail "$dtype: the 2-rank run logged $(step_losses "$work/ranks_$dtype" | wc -l) steps, expected 4"
  rtol=0
  [ $dtype = f32 ] && rtol=1e-5
  echo "$dtype: 2 ranks vs 1 process with grad_accumulation 2:"
  "$COMPARE_WEIGHTS" "$(weights_at "$work/ranks_$dtype" 4)" "$(weights_at "$work/accum_$dtype" 4)" --params-only \
    --rtol $rtol || fail "$dtype: the parameters differ"
  if [ $dtype = f64 ]; then
    diff <(step_losses "$work/ranks_$dtype") <(step_losses "$work/accum_$dtype") ||
      fail "f64: the logged losses differ"
  fi
  # Sanity: the comparison can fail. One process with the whole batch of 4 in one pass normalises BN over 4 images.
  if [ $dtype = f64 ]; then
    train 1 "$work/whole_$dtype" --set dtype=$dtype
    if "$COMPARE_WEIGHTS" "$(weights_at "$work/ranks_$dtype" 4)" "$(weights_at "$work/whole_$dtype" 4)" --params-only >/dev/null; then
      fail "f64: batch 4 in one pass gave the same parameters as 2 micro-batches of 2: the comparison proves nothing"
    fi
  fi
done
# Rank 0 alone writes the checkpoint folder: the files of one run and nothing else.
extra=$(ls "$work/ranks_f64" | grep -v -E '^(step_[0-9]{8}\.(weights|state)\.safetensors|metrics\.jsonl|events\.out\.tfevents\..*)$' || true)
[ -z "$extra" ] || fail "unexpected files in the 2-rank run's folder: $extra"
echo "PASS"
