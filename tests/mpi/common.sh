# Shared set-up of the data-parallel tests (issue 13): mpirun on this machine's CPUs, a tiny synthetic dataset and a
# tiny HRNet-tiny MTI-Net config (8 training images, global batch 4: 2 steps per epoch), and helpers to train with
# N ranks or with gradient accumulation. Sourced with MTINET, COMPARE_WEIGHTS and RANKS_AGREE set (CMake does it).
# Exit status 77 (skipped, by the test's name) when mpirun is missing or mtinet was built without MPI.
set -euo pipefail
: "${MTINET:?set MTINET to the mtinet binary}"
command -v mpirun >/dev/null || { echo "SKIP: mpirun not found (Debian: apt-get install openmpi-bin libopenmpi-dev)"; exit 77; }
info=$("$MTINET" info) || { echo "FAIL: '$MTINET info' failed" >&2; exit 1; }
grep -q "mpi: yes" <<<"$info" || { echo "SKIP: this mtinet was built without MPI"; exit 77; }
work=$(mktemp -d "${TMPDIR:-/tmp}/mtinet_mpi.XXXXXX")
[ -n "${MTINET_KEEP_TEST_DIRS:-}" ] || trap 'rm -rf "$work"' EXIT

# Each rank one OpenMP thread: two ranks share this machine's two cores, and one thread per process also makes the
# BLAS results independent of how many processes run (the comparisons are bit for bit).
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
# Shared memory between the ranks; no single-copy (CMA), which containers usually forbid.
mpi=(mpirun --allow-run-as-root --oversubscribe --mca btl self,vader --mca btl_vader_single_copy_mechanism none
     -x OMP_NUM_THREADS -x OPENBLAS_NUM_THREADS)

"$MTINET" synth --out "$work/data" --n 10 --size 64x64 --seed 3 >/dev/null
config="$work/config.json"
cat >"$config" <<JSON
{"model": {"model": "mtinet", "backbone": "hrnet_tiny", "tasks": "nyud", "seed": 5},
 "data": {"root": "$work/data", "size": [64, 64], "threads": 1, "scales": [1.0, 1.2]},
 "optimizer": {"type": "adam", "lr": 0.001},
 "checkpoint": {"dir": "$work/unset", "every_epochs": 1, "keep_last": 5},
 "epochs": 2, "batch_size": 4, "eval_every": 0, "device": "cpu"}
JSON

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# train NP DIR [args]: `mtinet train` on NP ranks (NP 1: a plain start, no mpirun) into checkpoint dir DIR.
train() {
  local np=$1 dir=$2
  shift 2
  if [ "$np" -eq 1 ]; then
    "$MTINET" train --config "$config" --set checkpoint.dir="$dir" "$@" >>"$dir.log" 2>&1 ||
      fail "training in $dir failed: $(tail -n 5 "$dir.log")"
  else
    "${mpi[@]}" -np "$np" "$MTINET" train --config "$config" --set checkpoint.dir="$dir" "$@" >>"$dir.log" 2>&1 ||
      fail "training on $np ranks in $dir failed: $(tail -n 5 "$dir.log")"
  fi
}

# "step loss" for each step record of a run's metrics.jsonl, in order (keys are written sorted).
step_losses() {
  grep "\"images_per_s\"" "$1/metrics.jsonl" | sed -n 's/.*"loss":\([^,]*\),.*"step":\([0-9]*\),.*/\2 \1/p'
}

weights_at() {
  printf '%s/step_%08d.weights.safetensors' "$1" "$2"
}
