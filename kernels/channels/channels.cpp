// Device dispatch for the channel concat/slice kernels.
#include "kernels/channels/channels.h"

#include "kernels/dispatch.h"

namespace mtinet::kernels {

void concat_channels(const std::vector<Tensor>& xs, Tensor& y) { MTINET_ON_DEVICE(y.device(), concat_channels, xs, y); }

void copy_channels(const Tensor& src, int64_t src_begin, Tensor& dst, int64_t dst_begin, int64_t count) {
  MTINET_ON_DEVICE(dst.device(), copy_channels, src, src_begin, dst, dst_begin, count);
}

}  // namespace mtinet::kernels
