// The one-line launch used by the simple CUDA kernels: call a functor for every index in [0, n) with a grid-stride
// loop on the compute stream, then check the launch. Functors are plain structs with a __device__ operator()
// (the build does not enable nvcc's extended lambdas).
#pragma once
#include <cstdint>

#include "core/cuda_runtime.h"

namespace mtinet::kernels {

template <class F>
__global__ void for_each_index_kernel(int64_t n, F f) {
  int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) f(i);
}

template <class F>
void for_each_index(int64_t n, const F& f, const char* kernel_name) {
  if (n <= 0) return;  // a zero-sized grid is a launch error
  constexpr int kThreads = 256;
  for_each_index_kernel<<<cuda::blocks_for(n, kThreads), kThreads, 0, cuda::stream()>>>(n, f);
  MTINET_CUDA_LAUNCH_CHECK(kernel_name);
}

}  // namespace mtinet::kernels
