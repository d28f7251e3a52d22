// CUDA kernels for the reductions. sum_all is deterministic: the input is split into a number of blocks that depends
// only on its size, each block reduces its share in a fixed tree into one partial (accumulated in double, as on the
// CPU), and a single block then reduces the partials in a fixed order. No atomics, so the result is the same bits
// on every run.
#include <cstdint>

#include "core/cuda_runtime.h"
#include "kernels/cuda_foreach.cuh"
#include "kernels/dispatch.h"
#include "kernels/reduce.h"

namespace mtinet::kernels {

namespace {
constexpr int kSumThreads = 256;        // per block, a power of two for the tree
constexpr int64_t kSumMaxBlocks = 1024;  // enough to fill an H100 several times over
constexpr int kFinalThreads = 1024;

// Fixed-order tree over the block's shared values; returns the total in thread 0.
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
__global__ void sum_partials_kernel(const T* x, int64_t n, double* partials) {
  __shared__ double shared[kSumThreads];
  double acc = 0;
  int64_t stride = int64_t(gridDim.x) * kSumThreads;
  for (int64_t i = int64_t(blockIdx.x) * kSumThreads + threadIdx.x; i < n; i += stride) acc += double(x[i]);
  double total = block_tree_sum<kSumThreads>(shared, acc);
  if (threadIdx.x == 0) partials[blockIdx.x] = total;
}

template <class T>
__global__ void sum_final_kernel(const double* partials, int64_t count, T* out) {
  __shared__ double shared[kFinalThreads];
  double acc = 0;
  for (int64_t i = threadIdx.x; i < count; i += kFinalThreads) acc += partials[i];
  double total = block_tree_sum<kFinalThreads>(shared, acc);
  if (threadIdx.x == 0) out[0] = T(total);
}

template <class T>
void sum_all_typed(const Tensor& x, Tensor& out) {
  int64_t n = x.numel();
  int64_t blocks = (n + kSumThreads * 4 - 1) / (kSumThreads * 4);  // at least 4 elements per thread
  if (blocks < 1) blocks = 1;
  if (blocks > kSumMaxBlocks) blocks = kSumMaxBlocks;
  // Freed when this function returns; the free is stream-ordered, so the final kernel still reads valid memory.
  Tensor partials = Tensor::empty({blocks}, DType::F64, Device::CUDA);
  double* pp = partials.data<double>();
  sum_partials_kernel<T><<<unsigned(blocks), kSumThreads, 0, cuda::stream()>>>(x.data<T>(), n, pp);
  MTINET_CUDA_LAUNCH_CHECK("sum_partials");
  sum_final_kernel<T><<<1, kFinalThreads, 0, cuda::stream()>>>(pp, blocks, out.data<T>());
  MTINET_CUDA_LAUNCH_CHECK("sum_final");
}

// One thread per row: channel counts are small (tens), and rows are many (every pixel).
template <class T>
struct ArgmaxRowOp {
  const T* x;
  int64_t c;
  int64_t* out;
  __device__ void operator()(int64_t r) const {
    const T* row = x + r * c;
    int64_t best = 0;
    T best_v = row[0];
    for (int64_t k = 1; k < c; ++k) {
      if (row[k] > best_v) {  // strictly greater: the first maximum wins, as on the CPU
        best_v = row[k];
        best = k;
      }
    }
    out[r] = best;
  }
};

template <class T>
struct BroadcastScalarOp {
  const T* s;
  double factor;
  T* out;
  __device__ void operator()(int64_t i) const { out[i] = T(factor * double(s[0])); }
};
}  // namespace

void sum_all_cuda(const Tensor& x, Tensor& out) { MTINET_FLOAT_TYPES(x.dtype(), T, sum_all_typed<T>(x, out)); }

void argmax_channels_cuda(const Tensor& x, Tensor& out) {
  int64_t c = x.dim(-1);
  int64_t rows = c ? x.numel() / c : 0;
  MTINET_FLOAT_TYPES(x.dtype(), T,
                     for_each_index(rows, ArgmaxRowOp<T>{x.data<T>(), c, out.data<int64_t>()}, "argmax_channels"));
}

void broadcast_scalar_cuda(const Tensor& s, double factor, Tensor& out) {
  MTINET_FLOAT_TYPES(s.dtype(), T,
                     for_each_index(out.numel(), BroadcastScalarOp<T>{s.data<T>(), factor, out.data<T>()},
                                    "broadcast_scalar"));
}

}  // namespace mtinet::kernels
