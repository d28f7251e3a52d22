#include "kernels/reduce/reduce.h"

#include "kernels/dispatch.h"

namespace mtinet::kernels {

void sum_all(const Tensor& x, Tensor& out) { MTINET_ON_DEVICE(x.device(), sum_all, x, out); }
void argmax_channels(const Tensor& x, Tensor& out) { MTINET_ON_DEVICE(x.device(), argmax_channels, x, out); }
void broadcast_scalar(const Tensor& s, double factor, Tensor& out) {
  MTINET_ON_DEVICE(s.device(), broadcast_scalar, s, factor, out);
}

}  // namespace mtinet::kernels
