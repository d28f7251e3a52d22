#!/usr/bin/env bash
# Companion of tools/gpu_check.sh, run on a normal build machine (Debian with the CUDA toolkit) before a GPU session:
# builds mtinet for sm_90 and packs what a bare CUDA machine lacks into one archive, .gpu_bundle/mtinet_sm90.tar.gz:
# the `mtinet` and `mtinet_tests` binaries and the shared libraries they need that a CUDA image may not have
# (OpenBLAS with its Fortran runtime, oneDNN, OpenMP, the C++ runtime). CUDA's own libraries (cudart, cuBLAS, cuDNN)
# are not packed: they are large and gpu_check finds them on the GPU machine (toolkit, CUDNN_ROOT or Python wheels).
# gpu_check uses the archive when it exists and builds from source otherwise.
#
#   tools/gpu_pack.sh [build-dir]     (default: build-sm90)
# The archive is ignored by git; hand it to the GPU machine with the working tree (e.g. the device tool's carry).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-build-sm90}"
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
cd "$ROOT"
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH=/usr/local/cuda/bin:$PATH; fi
command -v nvcc >/dev/null || { echo "gpu_pack: nvcc not found: the CUDA toolkit is needed to build for sm_90" >&2; exit 1; }

cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMTINET_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 >/dev/null
cmake --build "$BUILD" -j "$(nproc)" --target mtinet mtinet_tests

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib"
cp "$BUILD/mtinet" "$BUILD/mtinet_tests" "$stage/bin/"
# Every library the binaries load, except glibc's own (always there, and must match the loader) and CUDA's.
ldd "$BUILD/mtinet_tests" "$BUILD/mtinet" | awk '/=> \// {print $1, $3}' | sort -u | while read -r name path; do
  case "$name" in
    libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*|ld-linux*|linux-vdso*) continue ;;
    libcudart*|libcublas*|libcudnn*|libnccl*|libcuda.so*) continue ;;
  esac
  cp -L "$path" "$stage/lib/$name"
done
{
  echo "commit $(git rev-parse HEAD)$(git diff --quiet HEAD || echo ' (with uncommitted changes)')"
  echo "built $(date -u +%FT%TZ) on $(uname -n) for sm_90"
  nvcc --version | tail -n 2 | head -n 1
} >"$stage/BUILD_INFO"
mkdir -p .gpu_bundle
tar -C "$stage" -czf .gpu_bundle/mtinet_sm90.tar.gz .
echo "gpu_pack: wrote .gpu_bundle/mtinet_sm90.tar.gz ($(du -h .gpu_bundle/mtinet_sm90.tar.gz | cut -f1)):"
tar -tzvf .gpu_bundle/mtinet_sm90.tar.gz | awk '{print "  " $3 "  " $6}'
