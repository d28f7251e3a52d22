// Device dispatch for the element-wise kernels.
#include "kernels/elementwise/elementwise.h"

#include "kernels/dispatch.h"

namespace mtinet::kernels {

void throw_no_cuda(const char* fn) {
  MTINET_FAIL(fn, ": a tensor is on CUDA but this build of mtinet has no CUDA backend");
}

void fill(Tensor& t, double value) { MTINET_ON_DEVICE(t.device(), fill, t, value); }
void convert(const Tensor& src, Tensor& dst) { MTINET_ON_DEVICE(src.device(), convert, src, dst); }
void add_inplace(Tensor& dst, const Tensor& src) {
  check_same_shape("add_inplace", dst, src);
  MTINET_ON_DEVICE(dst.device(), add_inplace, dst, src);
  dst.bump_version();
}
void relu_forward(const Tensor& x, Tensor& y) { MTINET_ON_DEVICE(x.device(), relu_forward, x, y); }
void relu_backward(const Tensor& x, const Tensor& gy, Tensor& gx) {
  MTINET_ON_DEVICE(x.device(), relu_backward, x, gy, gx);
}
void sigmoid_forward(const Tensor& x, Tensor& y) { MTINET_ON_DEVICE(x.device(), sigmoid_forward, x, y); }
void sigmoid_backward(const Tensor& y, const Tensor& gy, Tensor& gx) {
  MTINET_ON_DEVICE(y.device(), sigmoid_backward, y, gy, gx);
}
void add_forward(const Tensor& a, const Tensor& b, Tensor& y) { MTINET_ON_DEVICE(a.device(), add_forward, a, b, y); }
void mul_forward(const Tensor& a, const Tensor& b, Tensor& y) { MTINET_ON_DEVICE(a.device(), mul_forward, a, b, y); }
void scale_forward(const Tensor& x, double s, Tensor& y) { MTINET_ON_DEVICE(x.device(), scale_forward, x, s, y); }

}  // namespace mtinet::kernels
