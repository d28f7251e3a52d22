// Device dispatch for the linear-layer kernels.
#include "kernels/conv/linear.h"

#include "kernels/dispatch.h"

namespace mtinet::kernels {

void linear_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y) {
  MTINET_ON_DEVICE(x.device(), linear_forward, x, w, bias, y);
}
void linear_backward_input(const Tensor& gy, const Tensor& w, Tensor& gx) {
  MTINET_ON_DEVICE(gy.device(), linear_backward_input, gy, w, gx);
}
void linear_backward_weight(const Tensor& gy, const Tensor& x, Tensor& gw) {
  MTINET_ON_DEVICE(gy.device(), linear_backward_weight, gy, x, gw);
}

}  // namespace mtinet::kernels
