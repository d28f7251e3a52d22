// CUDA kernels for the element-wise family. The per-element formulas are the MTINET_HD functions of
// kernels/elementwise/elementwise_math.h that the CPU loops also use; f32 and f64 are both supported here.
#include <cstdint>

#include "core/cuda_runtime.h"
#include "kernels/cuda_foreach.cuh"
#include "kernels/elementwise/elementwise.h"
#include "kernels/elementwise/elementwise_math.h"

namespace mtinet::kernels {

namespace {
template <class T>
struct FillOp {
  T* p;
  T v;
  __device__ void operator()(int64_t i) const { p[i] = v; }
};

template <class S, class D>
struct ConvertOp {
  const S* s;
  D* d;
  __device__ void operator()(int64_t i) const { d[i] = D(s[i]); }
};

template <class T>
struct AddInplaceOp {
  T* d;
  const T* s;
  __device__ void operator()(int64_t i) const { d[i] += s[i]; }
};

template <class T>
struct ReluFwdOp {
  const T* x;
  T* y;
  __device__ void operator()(int64_t i) const { y[i] = relu_fwd(x[i]); }
};

template <class T>
struct ReluBwdOp {
  const T* x;
  const T* gy;
  T* gx;
  __device__ void operator()(int64_t i) const { gx[i] = relu_bwd(x[i], gy[i]); }
};

template <class T>
struct SigmoidFwdOp {
  const T* x;
  T* y;
  __device__ void operator()(int64_t i) const { y[i] = sigmoid_fwd(x[i]); }
};

template <class T>
struct SigmoidBwdOp {
  const T* y;
  const T* gy;
  T* gx;
  __device__ void operator()(int64_t i) const { gx[i] = sigmoid_bwd(y[i], gy[i]); }
};

template <class T>
struct AddOp {
  const T* a;
  const T* b;
  T* y;
  __device__ void operator()(int64_t i) const { y[i] = a[i] + b[i]; }
};

template <class T>
struct MulOp {
  const T* a;
  const T* b;
  T* y;
  __device__ void operator()(int64_t i) const { y[i] = a[i] * b[i]; }
};

template <class T>
struct ScaleOp {
  const T* x;
  T s;
  T* y;
  __device__ void operator()(int64_t i) const { y[i] = s * x[i]; }
};

template <class T>
void fill_typed(Tensor& t, double value) {
  for_each_index(t.numel(), FillOp<T>{t.data<T>(), T(value)}, "fill");
}

template <class S, class D>
void convert_typed(const Tensor& src, Tensor& dst) {
  for_each_index(src.numel(), ConvertOp<S, D>{src.data<S>(), dst.data<D>()}, "convert");
}

template <class S>
void convert_from(const Tensor& src, Tensor& dst) {
  switch (dst.dtype()) {
    case DType::F32: convert_typed<S, float>(src, dst); break;
    case DType::F64: convert_typed<S, double>(src, dst); break;
    case DType::I32: convert_typed<S, int32_t>(src, dst); break;
    case DType::I64: convert_typed<S, int64_t>(src, dst); break;
    case DType::U8: convert_typed<S, uint8_t>(src, dst); break;
    default: MTINET_FAIL("convert: unsupported target dtype ", dtype_name(dst.dtype()));
  }
}
}  // namespace

void fill_cuda(Tensor& t, double value) {
  switch (t.dtype()) {
    case DType::F32: fill_typed<float>(t, value); break;
    case DType::F64: fill_typed<double>(t, value); break;
    case DType::I32: fill_typed<int32_t>(t, value); break;
    case DType::I64: fill_typed<int64_t>(t, value); break;
    case DType::U8: fill_typed<uint8_t>(t, value); break;
    default: MTINET_FAIL("fill: unsupported dtype ", dtype_name(t.dtype()));
  }
  t.bump_version();
}

void convert_cuda(const Tensor& src, Tensor& dst) {
  check_same_shape("convert", src, dst);
  check_same_device("convert", src, dst);
  switch (src.dtype()) {
    case DType::F32: convert_from<float>(src, dst); break;
    case DType::F64: convert_from<double>(src, dst); break;
    case DType::I32: convert_from<int32_t>(src, dst); break;
    case DType::I64: convert_from<int64_t>(src, dst); break;
    case DType::U8: convert_from<uint8_t>(src, dst); break;
    default: MTINET_FAIL("convert: unsupported source dtype ", dtype_name(src.dtype()));
  }
}

void add_inplace_cuda(Tensor& dst, const Tensor& src) {
  MTINET_FLOAT_TYPES(dst.dtype(), T,
                     for_each_index(dst.numel(), AddInplaceOp<T>{dst.data<T>(), src.data<T>()}, "add_inplace"));
}

void relu_forward_cuda(const Tensor& x, Tensor& y) {
  MTINET_FLOAT_TYPES(x.dtype(), T, for_each_index(x.numel(), ReluFwdOp<T>{x.data<T>(), y.data<T>()}, "relu_forward"));
}

void relu_backward_cuda(const Tensor& x, const Tensor& gy, Tensor& gx) {
  MTINET_FLOAT_TYPES(x.dtype(), T,
                     for_each_index(x.numel(), ReluBwdOp<T>{x.data<T>(), gy.data<T>(), gx.data<T>()}, "relu_backward"));
}

void sigmoid_forward_cuda(const Tensor& x, Tensor& y) {
  MTINET_FLOAT_TYPES(x.dtype(), T,
                     for_each_index(x.numel(), SigmoidFwdOp<T>{x.data<T>(), y.data<T>()}, "sigmoid_forward"));
}

void sigmoid_backward_cuda(const Tensor& y, const Tensor& gy, Tensor& gx) {
  MTINET_FLOAT_TYPES(y.dtype(), T,
                     for_each_index(y.numel(), SigmoidBwdOp<T>{y.data<T>(), gy.data<T>(), gx.data<T>()},
                                    "sigmoid_backward"));
}

void add_forward_cuda(const Tensor& a, const Tensor& b, Tensor& y) {
  MTINET_FLOAT_TYPES(a.dtype(), T, for_each_index(a.numel(), AddOp<T>{a.data<T>(), b.data<T>(), y.data<T>()}, "add"));
}

void mul_forward_cuda(const Tensor& a, const Tensor& b, Tensor& y) {
  MTINET_FLOAT_TYPES(a.dtype(), T, for_each_index(a.numel(), MulOp<T>{a.data<T>(), b.data<T>(), y.data<T>()}, "mul"));
}

void scale_forward_cuda(const Tensor& x, double s, Tensor& y) {
  MTINET_FLOAT_TYPES(x.dtype(), T, for_each_index(x.numel(), ScaleOp<T>{x.data<T>(), T(s), y.data<T>()}, "scale"));
}

}  // namespace mtinet::kernels
