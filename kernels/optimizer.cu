// CUDA kernels for the optimiser steps and the gradient-norm utilities, f32 and f64. The per-element updates are the
// MTINET_HD functions of kernels/optimizer_math.h that the CPU loops also use, so a step matches the CPU to rounding.
//
// sum_squares is deterministic: a number of blocks that depends only on the input size, each reducing its
// grid-stride share in double in a fixed shared-memory tree into one partial, then one block reducing the partials
// in a fixed order. No atomics, so a gradient norm is the same bits on every run. scale_by reads its factor from
// device memory, so clipping never waits for the host.
#include <cstdint>

#include "core/cuda_runtime.h"
#include "kernels/cuda_foreach.cuh"
#include "kernels/dispatch.h"
#include "kernels/optimizer.h"

namespace mtinet::kernels {

namespace {

constexpr int kSumThreads = 256;          // per block, a power of two for the tree
constexpr int64_t kSumMaxBlocks = 1024;   // enough partials to fill an H100 several times over
constexpr int64_t kItemsPerThread = 4;    // at least this many elements per thread before another block is added
constexpr int kFinalThreads = 1024;

template <class T>
struct SgdOp {
  T* p;
  const T* g;
  T* buf;  // may alias g when momentum is 0 (then it is never written)
  SgdParams h;
  __device__ void operator()(int64_t i) const { sgd_update(p[i], g[i], buf[i], h); }
};

template <class T>
struct AdamOp {
  T* p;
  const T* g;
  T* m;
  T* v;
  AdamParams h;
  __device__ void operator()(int64_t i) const { adam_update(p[i], g[i], m[i], v[i], h); }
};

template <class T>
struct ScaleByOp {
  T* x;
  const T* s;
  __device__ void operator()(int64_t i) const { x[i] *= s[0]; }
};

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

template <class T>
__global__ void sum_squares_partials_kernel(const T* x, int64_t n, double* partials) {
  __shared__ double shared[kSumThreads];
  double acc = 0;
  int64_t stride = int64_t(gridDim.x) * kSumThreads;
  for (int64_t i = int64_t(blockIdx.x) * kSumThreads + threadIdx.x; i < n; i += stride) {
    double v = double(x[i]);
    acc += v * v;
  }
  double total = block_tree_sum<kSumThreads>(shared, acc);
  if (threadIdx.x == 0) partials[blockIdx.x] = total;
}

template <class T>
__global__ void sum_squares_final_kernel(const double* partials, int64_t count, T* out) {
  __shared__ double shared[kFinalThreads];
  double acc = 0;
  for (int64_t i = threadIdx.x; i < count; i += kFinalThreads) acc += partials[i];
  double total = block_tree_sum<kFinalThreads>(shared, acc);
  if (threadIdx.x == 0) out[0] = T(total);
}

template <class T>
void sum_squares_typed(const Tensor& x, Tensor& out) {
  int64_t n = x.numel();
  int64_t blocks = (n + kSumThreads * kItemsPerThread - 1) / (kSumThreads * kItemsPerThread);
  if (blocks < 1) blocks = 1;  // n == 0 still runs: the partial is 0 and out gets 0
  if (blocks > kSumMaxBlocks) blocks = kSumMaxBlocks;
  // Freed when this returns; the free is stream-ordered, so the final kernel still reads valid memory.
  Tensor partials = Tensor::empty({blocks}, DType::F64, Device::CUDA);
  double* pp = partials.data<double>();
  sum_squares_partials_kernel<T><<<unsigned(blocks), kSumThreads, 0, cuda::stream()>>>(x.data<T>(), n, pp);
  MTINET_CUDA_LAUNCH_CHECK("sum_squares_partials");
  sum_squares_final_kernel<T><<<1, kFinalThreads, 0, cuda::stream()>>>(pp, blocks, out.data<T>());
  MTINET_CUDA_LAUNCH_CHECK("sum_squares_final");
}

void check_same_dtype(const char* fn, const Tensor& a, const Tensor& b) {
  MTINET_CHECK(a.dtype() == b.dtype(), fn, ": ", a.describe(), " and ", b.describe(), " differ in dtype");
}

}  // namespace

void sgd_step_cuda(Tensor& params, const Tensor& grads, Tensor& buf, const SgdParams& h) {
  check_same_dtype("sgd_step", params, grads);
  MTINET_FLOAT_TYPES(params.dtype(), T,
                     for_each_index(params.numel(), SgdOp<T>{params.data<T>(), grads.data<T>(), buf.data<T>(), h},
                                    "sgd_step"));
}

void adam_step_cuda(Tensor& params, const Tensor& grads, Tensor& m, Tensor& v, const AdamParams& h) {
  check_same_dtype("adam_step", params, grads);
  MTINET_FLOAT_TYPES(params.dtype(), T,
                     for_each_index(params.numel(),
                                    AdamOp<T>{params.data<T>(), grads.data<T>(), m.data<T>(), v.data<T>(), h},
                                    "adam_step"));
}

void sum_squares_cuda(const Tensor& x, Tensor& out) {
  check_same_dtype("sum_squares", x, out);
  MTINET_FLOAT_TYPES(x.dtype(), T, sum_squares_typed<T>(x, out));
}

void scale_by_cuda(Tensor& x, const Tensor& s) {
  check_same_dtype("scale_by", x, s);
  MTINET_CHECK(s.device() == Device::CUDA && s.numel() == 1,
               "scale_by: the factor must be one element on the GPU, got ", s.describe());
  MTINET_FLOAT_TYPES(x.dtype(), T,
                     for_each_index(x.numel(), ScaleByOp<T>{x.data<T>(), s.data<T>()}, "scale_by"));
}

}  // namespace mtinet::kernels
