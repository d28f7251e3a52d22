#!/usr/bin/env bash
# The gradient all-reduce overlapped with backward (distributed.overlap, train/overlapped_gradient_sum.h) trains the
# same parameters as the all-reduce after backward, bit for bit, on 2 ranks in f64 and f32, also with gradient
# accumulation (where each bucket gets the earlier micro-batches' sum added before it is sent); and with small buckets
# some of them really start before backward ends (bench train counts them).
set -euo pipefail
source "$(dirname "$0")/common.sh"

# 10 KiB buckets: the tiny model's gradients span dozens of them, so bucket order and readiness are exercised.
small=(--set distributed.bucket_mib=0.01)
for dtype in f64 f32; do
  train 2 "$work/after_$dtype" --set dtype=$dtype --set distributed.overlap=false
  train 2 "$work/overlap_$dtype" --set dtype=$dtype "${small[@]}"
  echo "$dtype: overlapped vs after backward:"
  "$COMPARE_WEIGHTS" "$(weights_at "$work/overlap_$dtype" 4)" "$(weights_at "$work/after_$dtype" 4)" ||
    fail "$dtype: overlapping the all-reduce changed the weights"
  diff <(step_losses "$work/overlap_$dtype") <(step_losses "$work/after_$dtype") ||
    fail "$dtype: overlapping the all-reduce changed the logged losses"
done
# Gradient accumulation: the last micro-batch's buckets carry the earlier micro-batch's sum.
accum=(--set dtype=f64 --set batch_size=8 --set grad_accumulation=2)
train 2 "$work/after_accum" "${accum[@]}" --set distributed.overlap=false
train 2 "$work/overlap_accum" "${accum[@]}" "${small[@]}"
echo "f64, grad_accumulation 2: overlapped vs after backward:"
"$COMPARE_WEIGHTS" "$(weights_at "$work/overlap_accum" 2)" "$(weights_at "$work/after_accum" 2)" ||
  fail "grad_accumulation 2: overlapping the all-reduce changed the weights"

# Overlap happens: buckets start while backward still runs (the last parameters' buckets first).
bench=$("${mpi[@]}" -np 2 "$MTINET" bench train --config "$config" --device cpu --batch 2 --steps 2 --warmup 1 \
  "${small[@]}" 2>&1) || fail "bench train on 2 ranks failed: $(tail -n 5 <<<"$bench")"
line=$(grep "buckets started before backward's last node" <<<"$bench") ||
  fail "bench train reported no bucket count: $bench"
echo "$line"
read -r started total < <(sed -n 's/.*last node: \([0-9.]*\) of \([0-9]*\) per step.*/\1 \2/p' <<<"$line")
[ "$total" -gt 10 ] || fail "expected dozens of 10 KiB buckets, got $total"
# Every bucket but the one holding the stem convolution starts while backward still has nodes to run: the model
# registers its parameters in the order its forward pass uses them, so backward finishes them in reverse parameter
# order, the buckets' order; the stem's weight is final only with backward's last node. (Buckets that waited for the
# end of backward -- a finality that is never signalled, or a bucket stuck behind a late one -- would show here.)
awk -v s="$started" -v t="$total" 'BEGIN { exit !(s == t - 1) }' ||
  fail "$started of $total buckets started before backward's last node, expected all but the stem's"
echo "PASS"
