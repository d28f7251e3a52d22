// The CUDA losses' deterministic reduction (losses.cu, upsampled_losses.cu): a number of blocks that depends only
// on the input size, each reducing its grid-stride share in a fixed shared-memory tree into per-block partials (in
// double, as on the CPU), then one block reducing the partials in a fixed order and writing the loss and its
// statistic. No atomics, so a loss is the same bits on every run, and nothing is read back to the host.
#pragma once
#include <cmath>
#include <cstdint>

#include "core/cuda_runtime.h"
#include "core/tensor.h"

namespace mtinet::kernels::losses_cuda {

constexpr int kThreads = 256;            // per block, a power of two for the tree
constexpr int64_t kMaxBlocks = 1024;     // enough partials to fill an H100 several times over
constexpr int64_t kItemsPerThread = 4;   // at least this many items per thread before another block is added

inline void check_f32(const char* op, const Tensor& t) {
  MTINET_CHECK(t.dtype() == DType::F32, op, ": the CUDA backend computes in f32 only, got ", t.describe());
}

// ---- the deterministic two-pass reduction ----

// Sums K per-thread accumulators over the block in a fixed tree; the totals end in shared[k][0].
template <int K>
__device__ void block_tree_sums(double (*shared)[kThreads], const double* acc) {
  for (int k = 0; k < K; ++k) shared[k][threadIdx.x] = acc[k];
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if (int(threadIdx.x) < half)
      for (int k = 0; k < K; ++k) shared[k][threadIdx.x] += shared[k][threadIdx.x + half];
    __syncthreads();
  }
}

// Pass 1: item(i, acc) adds item i's K terms; each block writes its K partial sums.
template <int K, class Item>
__global__ void loss_partials_kernel(int64_t n, Item item, double* partials) {
  __shared__ double shared[K][kThreads];
  double acc[K];
  for (int k = 0; k < K; ++k) acc[k] = 0.0;
  int64_t stride = int64_t(gridDim.x) * kThreads;
  for (int64_t i = int64_t(blockIdx.x) * kThreads + threadIdx.x; i < n; i += stride) item(i, acc);
  block_tree_sums<K>(shared, acc);
  if (threadIdx.x == 0)
    for (int k = 0; k < K; ++k) partials[blockIdx.x * K + k] = shared[k][0];
}

// Pass 2: one block sums the partials in a fixed order and hands the K totals to finish (thread 0 only).
template <int K, class Finish>
__global__ void loss_finish_kernel(const double* partials, int64_t blocks, Finish finish) {
  __shared__ double shared[K][kThreads];
  double acc[K];
  for (int k = 0; k < K; ++k) acc[k] = 0.0;
  for (int64_t b = threadIdx.x; b < blocks; b += kThreads)
    for (int k = 0; k < K; ++k) acc[k] += partials[b * K + k];
  block_tree_sums<K>(shared, acc);
  if (threadIdx.x == 0) {
    double total[K];
    for (int k = 0; k < K; ++k) total[k] = shared[k][0];
    finish(total);
  }
}

template <int K, class Item, class Finish>
void reduce_loss(int64_t n, const Item& item, const Finish& finish, const char* name) {
  int64_t blocks = (n + kThreads * kItemsPerThread - 1) / (kThreads * kItemsPerThread);
  if (blocks < 1) blocks = 1;  // n == 0 still runs: the totals are 0 and finish writes the empty-case loss
  if (blocks > kMaxBlocks) blocks = kMaxBlocks;
  // Freed when this returns; the free is stream-ordered, so the finish kernel still reads valid memory.
  Tensor partials = Tensor::empty({blocks * K}, DType::F64, Device::CUDA);
  double* pp = partials.data<double>();
  loss_partials_kernel<K><<<unsigned(blocks), kThreads, 0, cuda::stream()>>>(n, item, pp);
  MTINET_CUDA_LAUNCH_CHECK(name);
  loss_finish_kernel<K><<<1, kThreads, 0, cuda::stream()>>>(pp, blocks, finish);
  MTINET_CUDA_LAUNCH_CHECK(name);
}

// ---- finishing: from the totals to the loss and its statistic ----

// totals: {sum of terms, valid count[, bad labels when K == 3]}; loss = sum / (per_valid * count), 0 when nothing
// is valid, NaN when a bad label was seen (so the error shows without a host synchronisation).
template <int K>
struct MeanFinish {
  float* loss;
  double* n_valid;
  double per_valid;
  __device__ void operator()(const double (&t)[K]) const {
    double n = t[1];
    double v = n > 0 ? t[0] / (per_valid * n) : 0.0;
    if constexpr (K == 3) {
      if (t[2] > 0) v = nan("");
    }
    loss[0] = float(v);
    n_valid[0] = n;
  }
};

// totals: {sum of positive terms, sum of negative terms, negatives}.
struct BceFinish {
  float* loss;
  double* weight;
  double numel;
  bool has_pos_weight;
  double pos_weight;
  __device__ void operator()(const double (&t)[3]) const {
    double w = has_pos_weight ? pos_weight : t[2] / numel;
    loss[0] = float((w * t[0] + (1.0 - w) * t[1]) / numel);
    weight[0] = w;
  }
};

}  // namespace mtinet::kernels::losses_cuda
