#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, build mtinet, generate the synthetic multi-task dataset
# and train MTI-Net on it (on the GPU when there is one, else on the CPU), ending with validation metrics, the
# comparison against trivial predictors, and prediction images.
# Usage: tools/demo.sh [extra `mtinet train` options, e.g. --set epochs=2]
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install_deps.sh
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH=/usr/local/cuda/bin:$PATH; fi

# Build the CUDA backend only when a GPU can use it: a CPU-only build is much quicker to compile.
cuda=OFF
if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1 && command -v nvcc >/dev/null; then cuda=ON; fi
build=build-demo
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMTINET_CUDA=$cuda >/dev/null
cmake --build "$build" --target mtinet -j "$(nproc)"
mtinet="$build/mtinet"

data=runs/synthetic_data
if [ ! -f "$data/gt_sets/val.txt" ]; then
  "$mtinet" synth --out "$data" --n 320 --size 96x128 --seed 0
fi

run=runs/synthetic_demo
rm -rf "$run"
"$mtinet" train --config train/configs/synthetic_demo.json --set data.root="$data" --set checkpoint.dir="$run" "$@"

weights=$(ls "$run"/step_*.weights.safetensors | tail -n 1)
first_val=$(head -n 1 "$data/gt_sets/val.txt")
image=$(ls "$data/images/$first_val".* | head -n 1)
mkdir -p "$run/predictions"
"$mtinet" predict --config train/configs/synthetic_demo.json --weights "$weights" --input "$image" \
  --out "$run/predictions"
echo "demo: weights in $weights, metrics log in $run/metrics.jsonl, predictions in $run/predictions/"
