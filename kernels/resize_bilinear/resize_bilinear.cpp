// Device dispatch for the bilinear resize kernels.
#include "kernels/resize_bilinear/resize_bilinear.h"

#include "kernels/dispatch.h"

namespace mtinet::kernels {

void resize_bilinear_forward(const Tensor& x, Tensor& y, double factor_h, double factor_w) {
  MTINET_ON_DEVICE(x.device(), resize_bilinear_forward, x, y, factor_h, factor_w);
}

void resize_bilinear_backward(const Tensor& gy, Tensor& gx, double factor_h, double factor_w) {
  MTINET_ON_DEVICE(gy.device(), resize_bilinear_backward, gy, gx, factor_h, factor_w);
}

}  // namespace mtinet::kernels
