// Batch normalisation over the last dim (NHWC channels, or the features of a 2-d {N, C} input): forward, running
// statistics update and backward. The compute is in kernels/batch_norm/batch_norm*.
#include "core/autograd.h"
#include "core/ops.h"
#include "kernels/batch_norm/batch_norm.h"

namespace mtinet::ops {

namespace {

// A per-channel tensor ({C}, x's dtype and device) that may be undefined when `optional`.
void check_channel_tensor(const Tensor& x, const Tensor& t, const char* what, bool optional) {
  if (!t.defined()) {
    MTINET_CHECK(optional, "batch_norm: ", what, " is undefined");
    return;
  }
  MTINET_CHECK(t.shape() == Shape{x.dim(-1)}, "batch_norm: ", what, " ", t.describe(), " must have shape [",
               x.dim(-1), "] to match the channels of input ", x.describe());
  MTINET_CHECK(t.dtype() == x.dtype(), "batch_norm: ", what, " ", t.describe(), " must have the dtype of input ",
               x.describe());
  check_same_device("batch_norm", x, t);
}

Tensor channel_vector(const Tensor& x) { return Tensor::empty({x.dim(-1)}, x.dtype(), x.device()); }

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                  const Tensor& running_var, bool training, double momentum, double eps) {
  check_floating("batch_norm", x);
  MTINET_CHECK(x.ndim() == 4 || x.ndim() == 2, "batch_norm: expected an NHWC {N,H,W,C} or {N,C} input, got ",
               x.describe());
  check_channel_tensor(x, weight, "weight", true);
  check_channel_tensor(x, bias, "bias", true);
  check_channel_tensor(x, running_mean, "running_mean", true);
  check_channel_tensor(x, running_var, "running_var", true);
  MTINET_CHECK(running_mean.defined() == running_var.defined(),
               "batch_norm: running_mean and running_var must both be given or both be undefined");
  MTINET_CHECK(training || running_mean.defined(),
               "batch_norm: eval mode normalises with running statistics, but none were given for input ",
               x.describe());
  const int64_t count = x.dim(-1) ? x.numel() / x.dim(-1) : 0;  // pixels per channel
  MTINET_CHECK(!training || count > 1, "batch_norm: training needs more than one value per channel, got input ",
               x.describe());

  Tensor mean = running_mean, var = running_var;
  if (training) {
    mean = channel_vector(x);
    var = channel_vector(x);
    kernels::batch_norm_stats(x, mean, var);
    if (running_mean.defined()) {
      Tensor rm = running_mean, rv = running_var;
      kernels::batch_norm_update_running(mean, var, count, momentum, rm, rv);
    }
  }
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  kernels::batch_norm_apply(x, mean, var, weight, bias, eps, y);

  // In eval mode the running statistics are saved: updating them before this backward is an error, caught by the
  // saved-tensor version check.
  const bool affine_grads = (weight.defined() && weight.requires_grad()) || (bias.defined() && bias.requires_grad());
  return record(y, "batch_norm", {x, weight, bias}, {x, weight, mean, var},
                [training, eps, affine_grads](const Tensor& gy, const std::vector<Tensor>& saved) {
                  const Tensor &xs = saved[0], &w = saved[1], &m = saved[2], &v = saved[3];
                  Tensor sum_gy, sum_gy_xhat;
                  if (training || affine_grads) {
                    sum_gy = channel_vector(xs);
                    sum_gy_xhat = channel_vector(xs);
                    kernels::batch_norm_backward_reduce(gy, xs, m, v, eps, sum_gy, sum_gy_xhat);
                  }
                  Tensor gx = Tensor::empty(xs.shape(), xs.dtype(), xs.device());
                  kernels::batch_norm_backward_input(gy, xs, m, v, w, sum_gy, sum_gy_xhat, eps, training, gx);
                  // sum(gy * xhat) is the weight gradient, sum(gy) the bias gradient.
                  return std::vector<Tensor>{gx, w.defined() ? sum_gy_xhat : Tensor(), sum_gy};
                });
}

}  // namespace mtinet::ops
