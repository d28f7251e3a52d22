// Device dispatch for global average pooling and channel scaling.
#include "kernels/channel_gating/channel_gating.h"

#include "kernels/dispatch.h"

namespace mtinet::kernels {

void global_avg_pool_forward(const Tensor& x, Tensor& y) { MTINET_ON_DEVICE(x.device(), global_avg_pool_forward, x, y); }
void global_avg_pool_backward(const Tensor& gy, Tensor& gx) {
  MTINET_ON_DEVICE(gy.device(), global_avg_pool_backward, gy, gx);
}
void channel_scale_forward(const Tensor& x, const Tensor& s, Tensor& y) {
  MTINET_ON_DEVICE(x.device(), channel_scale_forward, x, s, y);
}
void channel_scale_backward(const Tensor& gy, const Tensor& x, const Tensor& s, Tensor& gx, Tensor& gs) {
  MTINET_ON_DEVICE(x.device(), channel_scale_backward, gy, x, s, gx, gs);
}

}  // namespace mtinet::kernels
