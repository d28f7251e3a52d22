# Shared set-up of the fault tests (issue 9, item 6), sourced by each script: a tiny synthetic dataset, a tiny config
# (HRNet-tiny MTI-Net, 3 epochs of 4 steps, a checkpoint every epoch, keep_last 1 so that pruning runs), and the
# uninterrupted reference run every faulted run must end up identical to.
# Usage from a script: MTINET=<binary> source common.sh; then `train DIR [args]`, `ref_dir`, `same_as_reference DIR`.
set -euo pipefail
: "${MTINET:?set MTINET to the mtinet binary}"
work=$(mktemp -d "${TMPDIR:-/tmp}/mtinet_faults.XXXXXX")
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"  # readable by the unprivileged user the read-only test runs as

"$MTINET" synth --out "$work/data" --n 10 --size 64x64 --seed 3 >/dev/null
config="$work/config.json"
cat >"$config" <<JSON
{"model": {"model": "mtinet", "backbone": "hrnet_tiny", "tasks": "nyud", "seed": 5},
 "data": {"root": "$work/data", "size": [64, 64], "threads": 2, "scales": [1.0, 1.2]},
 "optimizer": {"type": "adam", "lr": 0.001},
 "checkpoint": {"dir": "$work/unset", "every_epochs": 1, "keep_last": 1},
 "epochs": 3, "batch_size": 2, "eval_every": 0, "device": "cpu"}
JSON
final_step=12

# train DIR [extra args]: one `mtinet train` in checkpoint dir DIR; its output goes to DIR.log.
train() {
  local dir=$1
  shift
  "$MTINET" train --config "$config" --set checkpoint.dir="$dir" "$@" >>"$dir.log" 2>&1
}

# "step loss" for each step record of a run's metrics.jsonl, in order (keys are written sorted).
step_losses() {
  sed -n 's/.*"loss":\([^,]*\),.*"step":\([0-9]*\),.*/\2 \1/p' "$1/metrics.jsonl"
}

# md5 of a safetensors file's tensor data: what follows the 8-byte header length and the JSON header. The header's
# metadata holds the run's config, checkpoint.dir included, so whole files of two runs in two folders differ.
tensor_bytes_md5() {
  local header
  header=$(od -An -tu8 -N8 "$1" | tr -d ' ')
  tail -c +$((9 + header)) "$1" | md5sum | cut -d' ' -f1
}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# The run in DIR ended where the reference did: the same final weights, bit for bit, and a log with every step
# exactly once with the reference's losses.
same_as_reference() {
  local dir=$1
  local weights
  weights=$(printf 'step_%08d.weights.safetensors' "$final_step")
  [ -f "$dir/$weights" ] || fail "$dir: no final checkpoint $weights (log: $(tail -n 3 "$dir.log"))"
  [ "$(tensor_bytes_md5 "$dir/$weights")" = "$(tensor_bytes_md5 "$work/reference/$weights")" ] ||
    fail "$dir: final weights differ from the uninterrupted run"
  diff <(step_losses "$dir") <(step_losses "$work/reference") >/dev/null ||
    fail "$dir: the logged steps differ from the uninterrupted run: $(diff <(step_losses "$dir") <(step_losses "$work/reference") | head -n 5)"
  if ls "$dir"/*.tmp >/dev/null 2>&1; then fail "$dir: leftover .tmp files: $(ls "$dir"/*.tmp)"; fi
}

mkdir -p "$work/reference"
reference_start=$(date +%s.%N)
train "$work/reference" || fail "the uninterrupted reference run failed: $(tail -n 5 "$work/reference.log")"
[ "$(step_losses "$work/reference" | wc -l)" -eq "$final_step" ] || fail "the reference run logged $(step_losses "$work/reference" | wc -l) steps, expected $final_step"
reference_seconds=$(awk -v a="$reference_start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}')
