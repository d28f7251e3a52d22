// Device dispatch for the convolution and bias kernels.
#include "kernels/conv/conv2d.h"

#include "kernels/dispatch.h"

namespace mtinet::kernels {

void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dShape& s, Tensor& y) {
  MTINET_ON_DEVICE(x.device(), conv2d_forward, x, w, bias, s, y);
}
void conv2d_backward_input(const Tensor& gy, const Tensor& w, const Conv2dShape& s, Tensor& gx) {
  MTINET_ON_DEVICE(gy.device(), conv2d_backward_input, gy, w, s, gx);
}
void conv2d_backward_weight(const Tensor& gy, const Tensor& x, const Conv2dShape& s, Tensor& gw) {
  MTINET_ON_DEVICE(gy.device(), conv2d_backward_weight, gy, x, s, gw);
}
void bias_add(Tensor& y, const Tensor& b) { MTINET_ON_DEVICE(y.device(), bias_add, y, b); }
void bias_backward(const Tensor& gy, Tensor& gb) { MTINET_ON_DEVICE(gy.device(), bias_backward, gy, gb); }

}  // namespace mtinet::kernels
