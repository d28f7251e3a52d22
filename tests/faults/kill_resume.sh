#!/usr/bin/env bash
# A training run killed with SIGKILL at any moment, mid-checkpoint included, continues with `--resume latest` (run
# again until it succeeds, as a job scheduler would) to the very weights and losses of the uninterrupted run.
# Exact moments come from fault points (core/fault_injection.h), the rest from kills after a delay.
# Usage: MTINET=build/mtinet tests/faults/kill_resume.sh
source "$(dirname "$0")/common.sh"

# kill_then_resume NAME [env assignment]: the run dies (by the fault point, or by a timer with DELAY set), then
# `--resume latest` is repeated until it exits 0 (at most 3 times).
kill_then_resume() {
  local name=$1 point=${2:-}
  local dir="$work/$name"
  mkdir -p "$dir"
  local status=0
  if [ -n "$point" ]; then
    MTINET_FAULT_KILL_AT=$point train "$dir" || status=$?
    [ "$status" -eq 137 ] || fail "$name: expected death by SIGKILL at '$point', got exit status $status"
  else
    timeout -s KILL "$DELAY" "$MTINET" train --config "$config" --set checkpoint.dir="$dir" >>"$dir.log" 2>&1 ||
      status=$?
    [ "$status" -eq 137 ] || [ "$status" -eq 0 ] || fail "$name: exit status $status (log: $(tail -n 3 "$dir.log"))"
  fi
  local tries=0
  until train "$dir" --resume latest; do
    tries=$((tries + 1))
    [ "$tries" -lt 3 ] || fail "$name: --resume latest failed 3 times: $(tail -n 5 "$dir.log")"
  done
  same_as_reference "$dir"
  echo "ok: killed at ${point:-${DELAY}s}, resumed to the reference result"
}

kill_then_resume before_first_checkpoint train.after_update:3
kill_then_resume mid_epoch_2 train.after_update:6
kill_then_resume weights_partial safetensors.header_written:1
kill_then_resume weights_before_rename atomic_write.before_rename:1
kill_then_resume between_weights_and_state checkpoint.between_files:1
kill_then_resume state_before_rename atomic_write.before_rename:2
kill_then_resume state_partial safetensors.header_written:2
kill_then_resume mid_prune checkpoint.mid_prune:1
kill_then_resume last_checkpoint_before_rename atomic_write.before_rename:5
# Moments no fault point marks (start-up, data loading, evaluation): kills after a delay, spread over the run.
for fraction in 0.05 0.25 0.45 0.65 0.85; do
  DELAY=$(awk -v f="$fraction" -v t="$reference_seconds" 'BEGIN {printf "%.2f", f * t}')
  kill_then_resume "after_${DELAY}s"
done
echo "all kills resumed to the reference result"
