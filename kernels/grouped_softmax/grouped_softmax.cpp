// Device dispatch for the grouped softmax.
#include "kernels/grouped_softmax/grouped_softmax.h"

#include "kernels/dispatch.h"

namespace mtinet::kernels {

void grouped_softmax_forward(const Tensor& x, int64_t group, Tensor& y) {
  MTINET_ON_DEVICE(x.device(), grouped_softmax_forward, x, group, y);
}
void grouped_softmax_backward(const Tensor& y, const Tensor& gy, int64_t group, Tensor& gx) {
  MTINET_ON_DEVICE(y.device(), grouped_softmax_backward, y, gy, group, gx);
}

}  // namespace mtinet::kernels
