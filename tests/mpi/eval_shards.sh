#!/usr/bin/env bash
# Sharded evaluation (train/sharded_eval.h): under mpirun each rank evaluates whole batches of the split and the
# metric accumulators are summed over the ranks, so rank 0 reports what one process reports. Checked for `mtinet eval`
# on 2 ranks, on 3 ranks with batch 1 (uneven shards: 3, 3 and 2 of 8 batches), and for training's final evaluation
# on 2 ranks against `mtinet eval` of the weights it saved.
#
# Exact: everything counted in integers (segmentation TP/FP/FN, mIoU, pixel accuracy, depth's threshold accuracies,
# pixel and image counts): each batch is the batch one process runs, so its predictions are bit for bit the same.
# Within rtol 1e-14: the metrics built from sums of doubles (depth's rmse, log_rmse, abs_rel, sq_rel; the losses),
# which sum the per-image values per rank and then over the ranks, not in one running sum. All the summed terms are
# non-negative, so reordering a sum of at most 8 images' terms moves it by at most 7 units of roundoff (7 * 1.1e-16
# relative); the square roots and divisions after it add a few more. A wrong shard (a batch missed or counted twice)
# moves them by whole images' worth, far beyond.
set -euo pipefail
source "$(dirname "$0")/common.sh"
: "${COMPARE_EVAL:?set COMPARE_EVAL to the compare_eval binary}"

# 16 images, half of them in val: 2 training steps of 4 per epoch, and 2 evaluation batches of 4 (8 of 1).
"$MTINET" synth --out "$work/data_eval" --n 16 --size 64x64 --seed 4 --val-fraction 0.5 >/dev/null
data=(--set data.root="$work/data_eval")
approx=(--rtol 1e-14 --approx loss --approx depth.rmse --approx depth.log_rmse --approx depth.abs_rel
        --approx depth.sq_rel)

train 2 "$work/run" "${data[@]}"
weights=$(weights_at "$work/run" 4)

# eval NP OUT [args]: `mtinet eval` of the final weights on NP ranks (1: a plain start).
evaluate() {
  local np=$1 out=$2
  shift 2
  local cmd=("$MTINET" eval --config "$config" "${data[@]}" --weights "$weights" --out "$out/results.json" "$@")
  [ "$np" -eq 1 ] || cmd=("${mpi[@]}" -np "$np" "${cmd[@]}")
  "${cmd[@]}" >"$out.log" 2>&1 || fail "eval on $np rank(s) failed: $(tail -n 5 "$out.log")"
}

evaluate 1 "$work/one"
evaluate 2 "$work/two"
grep -q "split over 2 ranks" "$work/two.log" || fail "the 2-rank eval did not say it was sharded"
echo "mtinet eval, 2 ranks vs 1 process:"
"$COMPARE_EVAL" "$work/two/results.json" "$work/one/results.json" "${approx[@]}" || fail "2-rank eval differs"

evaluate 1 "$work/one_b1" --set batch_size=1
evaluate 3 "$work/three_b1" --set batch_size=1
echo "mtinet eval, batch 1, 3 ranks vs 1 process:"
"$COMPARE_EVAL" "$work/three_b1/results.json" "$work/one_b1/results.json" "${approx[@]}" || fail "3-rank eval differs"

echo "training's final evaluation on 2 ranks vs mtinet eval of its weights in 1 process:"
"$COMPARE_EVAL" "$work/run/metrics.jsonl" "$work/one/results.json" "${approx[@]}" ||
  fail "training's sharded evaluation differs from one process's"

# Sanity: the comparison can fail. The weights of step 2 give other metrics.
weights=$(weights_at "$work/run" 2)
evaluate 1 "$work/earlier"
if "$COMPARE_EVAL" "$work/earlier/results.json" "$work/one/results.json" "${approx[@]}" >/dev/null; then
  fail "the weights of steps 2 and 4 evaluate alike: the comparison proves nothing"
fi
echo "PASS"
