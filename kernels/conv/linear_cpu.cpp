// CPU linear layer: one GEMM per pass (threaded like the convolutions', gemm_parallel_cpu.h), templated on
// float/double. Row-major x {N, I}, w {O, I}, y {N, O}.
#include <cstdint>

#include "kernels/conv/conv2d.h"
#include "kernels/conv/gemm_parallel_cpu.h"
#include "kernels/conv/linear.h"
#include "kernels/dispatch.h"

namespace mtinet::kernels {

namespace {
template <class T>
void forward(const T* x, const T* w, int64_t n, int64_t in, int64_t out, T* y) {
  gemm_split_rows(true, n, out, in, T(1), x, in, w, in, T(0), y, out);  // y = x w^T
}
template <class T>
void backward_input(const T* gy, const T* w, int64_t n, int64_t in, int64_t out, T* gx) {
  gemm_split_rows(false, n, in, out, T(1), gy, out, w, in, T(0), gx, in);  // gx = gy w
}
template <class T>
void backward_weight(const T* gy, const T* x, int64_t n, int64_t in, int64_t out, T* gw) {
  gemm_at_b_split_inner(out, in, n, gy, out, x, in, T(0), gw, in);  // gw = gy^T x
}
}  // namespace

void linear_forward_cpu(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y) {
  MTINET_FLOAT_TYPES(x.dtype(), T, forward(x.data<T>(), w.data<T>(), x.dim(0), x.dim(1), w.dim(0), y.data<T>()));
  if (bias.defined()) bias_add_cpu(y, bias);
}

void linear_backward_input_cpu(const Tensor& gy, const Tensor& w, Tensor& gx) {
  MTINET_FLOAT_TYPES(gy.dtype(), T,
                     backward_input(gy.data<T>(), w.data<T>(), gy.dim(0), w.dim(1), w.dim(0), gx.data<T>()));
}

void linear_backward_weight_cpu(const Tensor& gy, const Tensor& x, Tensor& gw) {
  MTINET_FLOAT_TYPES(gy.dtype(), T,
                     backward_weight(gy.data<T>(), x.data<T>(), gy.dim(0), x.dim(1), gw.dim(0), gw.data<T>()));
}

}  // namespace mtinet::kernels
