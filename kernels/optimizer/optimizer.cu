// CUDA kernels for the optimiser steps and the gradient-norm utilities, f32 and f64. The per-element updates are the
// MTINET_HD functions of optimizer_math.h that the CPU loops also use, so a step matches the CPU to rounding.
//
// sum_squares is deterministic (kernels/cuda_sum.cuh), so a gradient norm is the same bits on every run. scale_by
// reads its factor from device memory, so clipping never waits for the host.
#include <cstdint>

#include "core/cuda_runtime.h"
#include "kernels/cuda_foreach.cuh"
#include "kernels/cuda_sum.cuh"
#include "kernels/dispatch.h"
#include "kernels/optimizer/optimizer.h"

namespace mtinet::kernels {

namespace {


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
  MTINET_FLOAT_TYPES(x.dtype(), T,
                     deterministic_sum(x.data<T>(), x.numel(), out.data<T>(), SumSquare{}, "sum_squares"));
}

void scale_by_cuda(Tensor& x, const Tensor& s) {
  check_same_dtype("scale_by", x, s);
  MTINET_CHECK(s.device() == Device::CUDA && s.numel() == 1,
               "scale_by: the factor must be one element on the GPU, got ", s.describe());
  MTINET_FLOAT_TYPES(x.dtype(), T,
                     for_each_index(x.numel(), ScaleByOp<T>{x.data<T>(), s.data<T>()}, "scale_by"));
}

}  // namespace mtinet::kernels
