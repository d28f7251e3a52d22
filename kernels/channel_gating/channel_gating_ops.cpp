// Global average pooling and channel scaling (SE gating): forward, checks and backward. The compute is in
// kernels/channel_gating/channel_gating*.
#include "core/autograd.h"
#include "core/ops.h"
#include "kernels/channel_gating/channel_gating.h"

namespace mtinet::ops {

Tensor global_avg_pool(const Tensor& x) {
  check_floating("global_avg_pool", x);
  check_ndim("global_avg_pool", x, 4);
  MTINET_CHECK(x.dim(1) * x.dim(2) > 0, "global_avg_pool: input ", x.describe(), " has no pixels");
  Tensor y = Tensor::empty({x.dim(0), x.dim(3)}, x.dtype(), x.device());
  kernels::global_avg_pool_forward(x, y);
  Shape in_shape = x.shape();
  return record(y, "global_avg_pool", {x}, {}, [in_shape](const Tensor& gy, const std::vector<Tensor>&) {
    Tensor gx = Tensor::empty(in_shape, gy.dtype(), gy.device());
    kernels::global_avg_pool_backward(gy, gx);
    return std::vector<Tensor>{gx};
  });
}

Tensor channel_scale(const Tensor& x, const Tensor& s) {
  check_floating("channel_scale", x);
  check_ndim("channel_scale", x, 4);
  MTINET_CHECK(s.ndim() == 2 && s.dim(0) == x.dim(0) && s.dim(1) == x.dim(3), "channel_scale: scale ", s.describe(),
               " must have shape [", x.dim(0), ", ", x.dim(3), "] (images, channels) of input ", x.describe());
  MTINET_CHECK(s.dtype() == x.dtype(), "channel_scale: dtype mismatch between ", x.describe(), " and ", s.describe());
  check_same_device("channel_scale", x, s);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  kernels::channel_scale_forward(x, s, y);
  const bool need_gx = x.requires_grad(), need_gs = s.requires_grad();
  return record(y, "channel_scale", {x, s}, {x, s},
                [need_gx, need_gs](const Tensor& gy, const std::vector<Tensor>& saved) {
                  const Tensor &xs = saved[0], &ss = saved[1];
                  Tensor gx = need_gx ? Tensor::empty(xs.shape(), xs.dtype(), xs.device()) : Tensor();
                  Tensor gs = need_gs ? Tensor::empty(ss.shape(), ss.dtype(), ss.device()) : Tensor();
                  kernels::channel_scale_backward(gy, xs, ss, gx, gs);
                  return std::vector<Tensor>{gx, gs};
                });
}

}  // namespace mtinet::ops
