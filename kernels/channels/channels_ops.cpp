// concat_channels and slice_channels: forward and backward are both channel-block copies
// (kernels/channels/channels*); interleave_channels is made of them.

#include "core/autograd.h"
#include "core/ops.h"
#include "kernels/channels/channels.h"

namespace mtinet::ops {

namespace {
// Every dim but the last: the pixel grid the channels hang off.
Shape leading_dims(const Tensor& t) { return Shape(t.shape().begin(), t.shape().end() - 1); }
}  // namespace

Tensor concat_channels(const std::vector<Tensor>& xs) {
  MTINET_CHECK(!xs.empty(), "concat_channels: needs at least one input");
  const Tensor& first = xs[0];
  MTINET_CHECK(first.defined(), "concat_channels: input 0 is undefined");
  MTINET_CHECK(first.ndim() >= 1, "concat_channels: input 0 ", first.describe(), " has no channel dim");
  int64_t channels = 0;
  std::vector<int64_t> widths;
  for (size_t k = 0; k < xs.size(); ++k) {
    const Tensor& x = xs[k];
    MTINET_CHECK(x.defined(), "concat_channels: input ", k, " is undefined");
    MTINET_CHECK(x.ndim() == first.ndim() && leading_dims(x) == leading_dims(first), "concat_channels: input ", k,
                 " ", x.describe(), " differs from input 0 ", first.describe(), " in a dim other than the last");
    MTINET_CHECK(x.dtype() == first.dtype(), "concat_channels: dtype of input ", k, " ", x.describe(),
                 " differs from input 0 ", first.describe());
    MTINET_CHECK(x.device() == first.device(), "concat_channels: device of input ", k, " ", x.describe(),
                 " differs from input 0 ", first.describe());
    widths.push_back(x.dim(-1));
    channels += x.dim(-1);
  }
  Shape out_shape = leading_dims(first);
  out_shape.push_back(channels);
  Tensor y = Tensor::empty(out_shape, first.dtype(), first.device());
  kernels::concat_channels(xs, y);

  std::vector<Shape> in_shapes;
  for (const Tensor& x : xs) in_shapes.push_back(x.shape());
  return record(y, "concat_channels", xs, {}, [in_shapes, widths](const Tensor& gy, const std::vector<Tensor>&) {
    // Each input's gradient is its own channel block of the output gradient.
    std::vector<Tensor> gxs;
    int64_t offset = 0;
    for (size_t k = 0; k < in_shapes.size(); ++k) {
      Tensor gx = Tensor::empty(in_shapes[k], gy.dtype(), gy.device());
      kernels::copy_channels(gy, offset, gx, 0, widths[k]);
      offset += widths[k];
      gxs.push_back(gx);
    }
    return gxs;
  });
}

Tensor slice_channels(const Tensor& x, int64_t begin, int64_t end) {
  MTINET_CHECK(x.ndim() >= 1, "slice_channels: input ", x.describe(), " has no channel dim");
  const int64_t channels = x.dim(-1);
  MTINET_CHECK(0 <= begin && begin < end && end <= channels, "slice_channels: channel range [", begin, ", ", end,
               ") is empty or outside the ", channels, " channels of ", x.describe());
  Shape out_shape = leading_dims(x);
  out_shape.push_back(end - begin);
  Tensor y = Tensor::empty(out_shape, x.dtype(), x.device());
  kernels::copy_channels(x, begin, y, 0, end - begin);

  Shape in_shape = x.shape();
  return record(y, "slice_channels", {x}, {}, [in_shape, begin, end](const Tensor& gy, const std::vector<Tensor>&) {
    // The channels outside the slice did not reach the output: their gradient is zero.
    Tensor gx = Tensor::zeros(in_shape, gy.dtype(), gy.device());
    kernels::copy_channels(gy, 0, gx, begin, end - begin);
    return std::vector<Tensor>{gx};
  });
}

Tensor interleave_channels(const Tensor& x, int64_t groups, int64_t members) {
  MTINET_CHECK(x.ndim() >= 1 && x.dim(-1) == groups * members, "interleave_channels: input ", x.describe(),
               " does not have ", groups, " x ", members, " channels");
  std::vector<Tensor> parts;
  parts.reserve(size_t(groups * members));
  for (int64_t m = 0; m < members; ++m)
    for (int64_t g = 0; g < groups; ++g) parts.push_back(slice_channels(x, g * members + m, g * members + m + 1));
  return concat_channels(parts);
}

}  // namespace mtinet::ops
