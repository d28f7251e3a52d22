// CUDA kernels for the reductions. sum_all is deterministic (kernels/cuda_sum.cuh): the same bits on every run.
#include <cstdint>

#include "core/cuda_runtime.h"
#include "kernels/cuda_foreach.cuh"
#include "kernels/cuda_sum.cuh"
#include "kernels/dispatch.h"
#include "kernels/reduce/reduce.h"

namespace mtinet::kernels {

namespace {
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

void sum_all_cuda(const Tensor& x, Tensor& out) {
  MTINET_FLOAT_TYPES(x.dtype(), T, deterministic_sum(x.data<T>(), x.numel(), out.data<T>(), SumIdentity{}, "sum_all"));
}

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
