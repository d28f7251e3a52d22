// A deterministic sum over a device array, shared by the reductions (sum_all) and the gradient norm (sum_squares).
//
// The input is split into a number of blocks that depends only on its size; each block reduces its grid-stride share
// of transform(x[i]) in double in a fixed shared-memory tree into one partial, and a single block then reduces the
// partials in a fixed order. No atomics, so the result is the same bits on every run.
#pragma once
#include <cstdint>

#include "core/cuda_runtime.h"
#include "core/tensor.h"

namespace mtinet::kernels {

namespace cuda_sum_detail {

constexpr int kSumThreads = 256;          // per block, a power of two for the tree
constexpr int64_t kSumMaxBlocks = 1024;   // enough partials to fill an H100 several times over
constexpr int64_t kItemsPerThread = 4;    // at least this many elements per thread before another block is added
constexpr int kFinalThreads = 1024;

// Fixed-order tree over the block's values; the total ends in shared[0].
template <int kThreads>
__device__ double block_tree_sum(double* shared, double v) {
  shared[threadIdx.x] = v;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if (int(threadIdx.x) < half) shared[threadIdx.x] += shared[threadIdx.x + half];
    __syncthreads();
  }
  return shared[0];
}

template <class T, class Transform>
__global__ void partials_kernel(const T* x, int64_t n, Transform f, double* partials) {
  __shared__ double shared[kSumThreads];
  double acc = 0;
  int64_t stride = int64_t(gridDim.x) * kSumThreads;
  for (int64_t i = int64_t(blockIdx.x) * kSumThreads + threadIdx.x; i < n; i += stride) acc += f(double(x[i]));
  double total = block_tree_sum<kSumThreads>(shared, acc);
  if (threadIdx.x == 0) partials[blockIdx.x] = total;
}

template <class T>
__global__ void final_kernel(const double* partials, int64_t count, T* out) {
  __shared__ double shared[kFinalThreads];
  double acc = 0;
  for (int64_t i = threadIdx.x; i < count; i += kFinalThreads) acc += partials[i];
  double total = block_tree_sum<kFinalThreads>(shared, acc);
  if (threadIdx.x == 0) out[0] = T(total);
}

}  // namespace cuda_sum_detail

struct SumIdentity {
  __device__ double operator()(double v) const { return v; }
};
struct SumSquare {
  __device__ double operator()(double v) const { return v * v; }
};

// out[0] = sum over i < n of transform(x[i]), accumulated in double; `name` labels launch errors.
template <class T, class Transform>
void deterministic_sum(const T* x, int64_t n, T* out, Transform transform, const char* name) {
  using namespace cuda_sum_detail;
  int64_t blocks = (n + kSumThreads * kItemsPerThread - 1) / (kSumThreads * kItemsPerThread);
  if (blocks < 1) blocks = 1;  // n == 0 still runs: the partial is 0 and out gets 0
  if (blocks > kSumMaxBlocks) blocks = kSumMaxBlocks;
  // Freed when this returns; the free is stream-ordered, so the final kernel still reads valid memory.
  Tensor partials = Tensor::empty({blocks}, DType::F64, Device::CUDA);
  double* pp = partials.data<double>();
  partials_kernel<T, Transform><<<unsigned(blocks), kSumThreads, 0, cuda::stream()>>>(x, n, transform, pp);
  MTINET_CUDA_LAUNCH_CHECK(name);
  final_kernel<T><<<1, kFinalThreads, 0, cuda::stream()>>>(pp, blocks, out);
  MTINET_CUDA_LAUNCH_CHECK(name);
}

}  // namespace mtinet::kernels
