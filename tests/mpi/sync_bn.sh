#!/usr/bin/env bash
# Synchronised BatchNorm on 2 ranks x 2 images equals BatchNorm over the 4 images (issue 13, item 3), in f64: outputs,
# gradients and running statistics (tests/mpi/sync_bn_check.cpp); then a sync_bn training run on 2 ranks comes closer
# to one process with the whole batch than a run without it (the rest of the gap is each rank's own loss
# normalisation: a mean over its own valid pixels).
set -euo pipefail
source "$(dirname "$0")/common.sh"
"${mpi[@]}" -np 2 "$SYNC_BN_CHECK" || fail "sync-BN differs from BatchNorm over the whole batch"
sgd=(--set dtype=f64 --set optimizer.type=sgd --set optimizer.lr=0.01 --set max_steps=1)
train 1 "$work/whole" "${sgd[@]}"
train 2 "$work/sync" "${sgd[@]}" --set sync_bn=true
train 2 "$work/plain" "${sgd[@]}"
rel() { { "$COMPARE_WEIGHTS" "$(weights_at "$1" 1)" "$(weights_at "$work/whole" 1)" --params-only || true; } | sed -n 's/.*largest relative difference \([^ ]*\).*/\1/p'; }
sync_rel=$(rel "$work/sync")
plain_rel=$(rel "$work/plain")
echo "after one SGD step, largest relative parameter difference to one pass over the batch: sync-BN $sync_rel, without $plain_rel"
awk -v s="$sync_rel" -v p="$plain_rel" 'BEGIN {exit !(s < 0.05 && s * 20 < p)}' ||
  fail "sync-BN training is not closer to the whole batch than training without it"
echo "PASS"
