// The grouped softmax (MTI-Net's FPM mask): forward, checks and backward. The compute is in
// kernels/grouped_softmax/grouped_softmax*.
#include "core/autograd.h"
#include "core/ops.h"
#include "kernels/grouped_softmax/grouped_softmax.h"

namespace mtinet::ops {

Tensor grouped_softmax(const Tensor& x, int64_t group) {
  check_floating("grouped_softmax", x);
  MTINET_CHECK(x.ndim() >= 1, "grouped_softmax: input ", x.describe(), " has no channel dim");
  MTINET_CHECK(group >= 1 && x.dim(-1) % group == 0, "grouped_softmax: the channels of input ", x.describe(),
               " are not divisible into groups of ", group);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  kernels::grouped_softmax_forward(x, group, y);
  return record(y, "grouped_softmax", {x}, {y}, [group](const Tensor& gy, const std::vector<Tensor>& saved) {
    Tensor gx = Tensor::empty(gy.shape(), gy.dtype(), gy.device());
    kernels::grouped_softmax_backward(saved[0], gy, group, gx);
    return std::vector<Tensor>{gx};
  });
}

}  // namespace mtinet::ops
