// CPU loops for the element-wise kernels: OpenMP over elements, templated on float/double.
#include <algorithm>
#include <cstdint>

#include "core/half_float.h"

#include "kernels/elementwise/elementwise.h"
#include "kernels/elementwise/elementwise_math.h"
#include "kernels/cpu_parallel.h"

namespace mtinet::kernels {

namespace {
// Applies f(i) for i in [0, n) in parallel; small tensors stay on one thread to avoid OpenMP overhead.
template <class F>
void parallel_for(int64_t n, F f) {
#pragma omp parallel for schedule(static) if (n > kMinParallelElements)
  for (int64_t i = 0; i < n; ++i) f(i);
}
}  // namespace

void fill_cpu(Tensor& t, double value) {
  int64_t n = t.numel();
  switch (t.dtype()) {
    case DType::F32: { float* p = t.data<float>(); parallel_for(n, [&](int64_t i) { p[i] = float(value); }); break; }
    case DType::F64: { double* p = t.data<double>(); parallel_for(n, [&](int64_t i) { p[i] = value; }); break; }
    case DType::I32: { int32_t* p = t.data<int32_t>(); parallel_for(n, [&](int64_t i) { p[i] = int32_t(value); }); break; }
    case DType::I64: { int64_t* p = t.data<int64_t>(); parallel_for(n, [&](int64_t i) { p[i] = int64_t(value); }); break; }
    case DType::U8: { uint8_t* p = t.data<uint8_t>(); parallel_for(n, [&](int64_t i) { p[i] = uint8_t(value); }); break; }
    default: MTINET_FAIL("fill: unsupported dtype ", dtype_name(t.dtype()));
  }
  t.bump_version();
}

namespace {
template <class S>
void convert_from(const S* s, Tensor& dst) {
  int64_t n = dst.numel();
  switch (dst.dtype()) {
    case DType::F32: { float* d = dst.data<float>(); parallel_for(n, [&](int64_t i) { d[i] = float(s[i]); }); break; }
    case DType::F64: { double* d = dst.data<double>(); parallel_for(n, [&](int64_t i) { d[i] = double(s[i]); }); break; }
    case DType::I32: { int32_t* d = dst.data<int32_t>(); parallel_for(n, [&](int64_t i) { d[i] = int32_t(s[i]); }); break; }
    case DType::I64: { int64_t* d = dst.data<int64_t>(); parallel_for(n, [&](int64_t i) { d[i] = int64_t(s[i]); }); break; }
    case DType::U8: { uint8_t* d = dst.data<uint8_t>(); parallel_for(n, [&](int64_t i) { d[i] = uint8_t(s[i]); }); break; }
    case DType::BF16: {
      uint16_t* d = static_cast<uint16_t*>(dst.raw_data());  // 16-bit storage: no C++ element type
      parallel_for(n, [&](int64_t i) { d[i] = float_to_bf16(float(s[i])); });
      break;
    }
    case DType::F16: {
      uint16_t* d = static_cast<uint16_t*>(dst.raw_data());  // 16-bit storage: no C++ element type
      parallel_for(n, [&](int64_t i) { d[i] = float_to_f16(float(s[i])); });
      break;
    }
    default: MTINET_FAIL("convert: unsupported target dtype ", dtype_name(dst.dtype()));
  }
}
}  // namespace

void convert_cpu(const Tensor& src, Tensor& dst) {
  check_same_shape("convert", src, dst);
  switch (src.dtype()) {
    case DType::F32: convert_from(src.data<float>(), dst); break;
    case DType::F64: convert_from(src.data<double>(), dst); break;
    case DType::I32: convert_from(src.data<int32_t>(), dst); break;
    case DType::I64: convert_from(src.data<int64_t>(), dst); break;
    case DType::U8: convert_from(src.data<uint8_t>(), dst); break;
    case DType::BF16: case DType::F16: {
      // Storage-only formats (core/half_float.h): widen to f32 (exact), then convert as from f32.
      Tensor wide = Tensor::empty(src.shape(), DType::F32, Device::CPU);
      const uint16_t* h = static_cast<const uint16_t*>(src.raw_data());
      float* w = wide.data<float>();
      bool bf16 = src.dtype() == DType::BF16;
      parallel_for(src.numel(), [&](int64_t i) { w[i] = bf16 ? bf16_to_float(h[i]) : f16_to_float(h[i]); });
      if (dst.dtype() == DType::F32) {
        std::copy(w, w + src.numel(), dst.data<float>());
      } else {
        convert_from(static_cast<const float*>(w), dst);
      }
      break;
    }
    default: MTINET_FAIL("convert: unsupported source dtype ", dtype_name(src.dtype()));
  }
}

void add_inplace_cpu(Tensor& dst, const Tensor& src) {
  MTINET_FLOAT_TYPES(dst.dtype(), T, {
    T* d = dst.data<T>();
    const T* s = src.data<T>();
    parallel_for(dst.numel(), [&](int64_t i) { d[i] += s[i]; });
  });
}

void relu_forward_cpu(const Tensor& x, Tensor& y) {
  MTINET_FLOAT_TYPES(x.dtype(), T, {
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    parallel_for(x.numel(), [&](int64_t i) { yp[i] = relu_fwd(xp[i]); });
  });
}

void relu_backward_cpu(const Tensor& x, const Tensor& gy, Tensor& gx) {
  MTINET_FLOAT_TYPES(x.dtype(), T, {
    const T* xp = x.data<T>();
    const T* gp = gy.data<T>();
    T* op = gx.data<T>();
    parallel_for(x.numel(), [&](int64_t i) { op[i] = relu_bwd(xp[i], gp[i]); });
  });
}

void sigmoid_forward_cpu(const Tensor& x, Tensor& y) {
  MTINET_FLOAT_TYPES(x.dtype(), T, {
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    parallel_for(x.numel(), [&](int64_t i) { yp[i] = sigmoid_fwd(xp[i]); });
  });
}

void sigmoid_backward_cpu(const Tensor& y, const Tensor& gy, Tensor& gx) {
  MTINET_FLOAT_TYPES(y.dtype(), T, {
    const T* yp = y.data<T>();
    const T* gp = gy.data<T>();
    T* op = gx.data<T>();
    parallel_for(y.numel(), [&](int64_t i) { op[i] = sigmoid_bwd(yp[i], gp[i]); });
  });
}

void add_forward_cpu(const Tensor& a, const Tensor& b, Tensor& y) {
  MTINET_FLOAT_TYPES(a.dtype(), T, {
    const T* ap = a.data<T>();
    const T* bp = b.data<T>();
    T* yp = y.data<T>();
    parallel_for(a.numel(), [&](int64_t i) { yp[i] = ap[i] + bp[i]; });
  });
}

void mul_forward_cpu(const Tensor& a, const Tensor& b, Tensor& y) {
  MTINET_FLOAT_TYPES(a.dtype(), T, {
    const T* ap = a.data<T>();
    const T* bp = b.data<T>();
    T* yp = y.data<T>();
    parallel_for(a.numel(), [&](int64_t i) { yp[i] = ap[i] * bp[i]; });
  });
}

void scale_forward_cpu(const Tensor& x, double s, Tensor& y) {
  MTINET_FLOAT_TYPES(x.dtype(), T, {
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    T st = T(s);
    parallel_for(x.numel(), [&](int64_t i) { yp[i] = st * xp[i]; });
  });
}

}  // namespace mtinet::kernels
