#!/usr/bin/env bash
# --resume latest with another number of ranks than the run was saved with (issue 13, item 1): 2 ranks stopped
# mid-epoch resumed by 1 process, and 1 process stopped mid-epoch resumed by 2 ranks, both end with the parameters of
# the uninterrupted run, bit for bit in f64 (1 process runs with grad_accumulation 2: the same micro-batches).
set -euo pipefail
source "$(dirname "$0")/common.sh"
train 1 "$work/whole" --set dtype=f64 --set grad_accumulation=2

train 2 "$work/two_then_one" --set dtype=f64 --set max_steps=3
train 1 "$work/two_then_one" --set dtype=f64 --set grad_accumulation=2 --resume latest
echo "2 ranks, resumed by 1 process:"
"$COMPARE_WEIGHTS" "$(weights_at "$work/two_then_one" 4)" "$(weights_at "$work/whole" 4)" --params-only ||
  fail "2 ranks resumed by 1 process: the final parameters differ from the uninterrupted run"

train 1 "$work/one_then_two" --set dtype=f64 --set grad_accumulation=2 --set max_steps=1
train 2 "$work/one_then_two" --set dtype=f64 --resume latest
echo "1 process, resumed by 2 ranks:"
"$COMPARE_WEIGHTS" "$(weights_at "$work/one_then_two" 4)" "$(weights_at "$work/whole" 4)" --params-only ||
  fail "1 process resumed by 2 ranks: the final parameters differ from the uninterrupted run"
diff <(step_losses "$work/one_then_two") <(step_losses "$work/whole") || fail "1 -> 2 ranks: the logged losses differ"
echo "PASS"
