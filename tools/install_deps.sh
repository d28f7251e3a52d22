#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build and test mtinet: compilers and build tools, OpenBLAS,
# oneDNN (f32 CPU convolutions), doctest, nlohmann/json, stb, zlib and OpenMPI (multi-process training; its tests
# need mpirun), all from Debian's packages. The CUDA toolkit with cuBLAS and cuDNN is not a Debian package: when it is installed (nvcc in
# /usr/local/cuda/bin or on PATH) the CUDA backend is built too.
# Packages already present are skipped, so re-running is cheap.
set -euo pipefail

packages=(build-essential cmake ninja-build pkg-config libopenblas-dev libdnnl-dev doctest-dev nlohmann-json3-dev libstb-dev
  zlib1g-dev openmpi-bin libopenmpi-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "install_deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
else
  echo "install_deps: all packages present"
fi
