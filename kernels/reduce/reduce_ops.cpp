// sum, mean and argmax over channels.
#include "core/autograd.h"
#include "core/ops.h"
#include "kernels/reduce/reduce.h"

namespace mtinet::ops {

namespace {
Tensor scaled_sum(const Tensor& x, double factor, const char* op) {
  check_floating(op, x);
  Tensor total = Tensor::empty({}, x.dtype(), x.device());
  kernels::sum_all(x, total);
  Tensor out = total;
  if (factor != 1.0) {
    out = Tensor::empty({}, x.dtype(), x.device());
    kernels::broadcast_scalar(total, factor, out);
  }
  Shape in_shape = x.shape();
  return record(out, op, {x}, {}, [in_shape, factor](const Tensor& g, const std::vector<Tensor>&) {
    Tensor gx = Tensor::empty(in_shape, g.dtype(), g.device());
    kernels::broadcast_scalar(g, factor, gx);
    return std::vector<Tensor>{gx};
  });
}
}  // namespace

Tensor sum(const Tensor& x) { return scaled_sum(x, 1.0, "sum"); }

Tensor mean(const Tensor& x) {
  MTINET_CHECK(x.numel() > 0, "mean of an empty tensor ", x.describe());
  return scaled_sum(x, 1.0 / double(x.numel()), "mean");
}

Tensor argmax_channels(const Tensor& x) {
  check_floating("argmax_channels", x);
  MTINET_CHECK(x.ndim() >= 1 && x.dim(-1) > 0, "argmax_channels needs a non-empty last dim, got ", x.describe());
  Shape s(x.shape().begin(), x.shape().end() - 1);
  Tensor out = Tensor::empty(s, DType::I64, x.device());
  kernels::argmax_channels(x, out);
  return out;
}

}  // namespace mtinet::ops
