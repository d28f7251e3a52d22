// Batch normalisation over the last dim (NHWC channels, or the features of a 2-d {N, C} input): forward, running
// statistics update and backward, optionally followed by a residual add and a ReLU in the same passes. The compute
// is in kernels/batch_norm/batch_norm*.
#include <algorithm>

#include "core/autograd.h"
#include "core/ops.h"
#include "kernels/batch_norm/batch_norm.h"
#include "kernels/elementwise/elementwise.h"

namespace mtinet::ops {

namespace {

// A per-channel tensor ({C}, x's dtype and device) that may be undefined when `optional`.
void check_channel_tensor(const char* op, const Tensor& x, const Tensor& t, const char* what, bool optional) {
  if (!t.defined()) {
    MTINET_CHECK(optional, op, ": ", what, " is undefined");
    return;
  }
  MTINET_CHECK(t.shape() == Shape{x.dim(-1)}, op, ": ", what, " ", t.describe(), " must have shape [", x.dim(-1),
               "] to match the channels of input ", x.describe());
  MTINET_CHECK(t.dtype() == x.dtype(), op, ": ", what, " ", t.describe(), " must have the dtype of input ",
               x.describe());
  check_same_device(op, x, t);
}

// The residual added before the ReLU: undefined, or exactly x's shape, dtype and device (no broadcasting).
void check_residual(const char* op, const Tensor& x, const Tensor& residual) {
  if (!residual.defined()) return;
  MTINET_CHECK(residual.shape() == x.shape() && residual.dtype() == x.dtype(), op, ": residual ",
               residual.describe(), " must have the shape and dtype of input ", x.describe());
  check_same_device(op, x, residual);
}

// The autograd node's name says what was fused.
const char* op_name(bool add, bool relu) {
  if (add) return relu ? "batch_norm_add_relu" : "batch_norm_add";
  return relu ? "batch_norm_relu" : "batch_norm";
}

Tensor channel_vector(const Tensor& x) { return Tensor::empty({x.dim(-1)}, x.dtype(), x.device()); }

RankMean& batch_norm_sync() {
  static RankMean sync;
  return sync;
}

// Values [begin, begin + like's channels) of v as a tensor of like's dtype and device.
Tensor channel_values(const std::vector<double>& v, size_t begin, const Tensor& like) {
  size_t c = size_t(like.numel());
  Tensor host = Tensor::from_vector<double>({int64_t(c)}, std::vector<double>(v.begin() + begin, v.begin() + begin + c));
  return host.to(like.dtype()).to(like.device());
}

// Synchronised BatchNorm: the statistics of all ranks' batches from each rank's own (equal counts): the mean of the
// means, and the mean of E[x^2] = var + mean^2 less the squared global mean. Goes through the host (it is the
// optional path; the all-reduce is on the host anyway).
void sync_statistics(const RankMean& sync, Tensor& mean, Tensor& var, int64_t& count) {
  std::vector<double> m = mean.to_double_vector(), v = var.to_double_vector();
  size_t c = m.size();
  std::vector<double> buf(2 * c);
  for (size_t i = 0; i < c; ++i) {
    buf[i] = m[i];
    buf[c + i] = v[i] + m[i] * m[i];
  }
  count *= sync(buf);
  for (size_t i = 0; i < c; ++i) buf[c + i] = std::max(0.0, buf[c + i] - buf[i] * buf[i]);
  mean = channel_values(buf, 0, mean);
  var = channel_values(buf, c, var);
}

// The backward sums averaged over the ranks: with them, batch_norm_backward_input's sum/M (M this rank's rows) is
// the global sum over all ranks' rows divided by their number.
void sync_sums(const RankMean& sync, Tensor& sum_gy, Tensor& sum_gy_xhat) {
  std::vector<double> a = sum_gy.to_double_vector(), b = sum_gy_xhat.to_double_vector();
  size_t c = a.size();
  a.insert(a.end(), b.begin(), b.end());
  sync(a);
  sum_gy = channel_values(a, 0, sum_gy);
  sum_gy_xhat = channel_values(a, c, sum_gy_xhat);
}

}  // namespace

void set_batch_norm_sync(RankMean mean_over_ranks) { batch_norm_sync() = std::move(mean_over_ranks); }

Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                  const Tensor& running_var, bool training, double momentum, double eps) {
  return batch_norm_relu(x, weight, bias, running_mean, running_var, training, momentum, eps, Tensor(), false);
}

Tensor batch_norm_relu(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                       const Tensor& running_var, bool training, double momentum, double eps, const Tensor& residual,
                       bool relu) {
  const bool add = residual.defined();
  const char* op = op_name(add, relu);
  check_floating(op, x);
  MTINET_CHECK(x.ndim() == 4 || x.ndim() == 2, op, ": expected an NHWC {N,H,W,C} or {N,C} input, got ",
               x.describe());
  check_channel_tensor(op, x, weight, "weight", true);
  check_channel_tensor(op, x, bias, "bias", true);
  check_channel_tensor(op, x, running_mean, "running_mean", true);
  check_channel_tensor(op, x, running_var, "running_var", true);
  check_residual(op, x, residual);
  MTINET_CHECK(running_mean.defined() == running_var.defined(), op,
               ": running_mean and running_var must both be given or both be undefined");
  MTINET_CHECK(training || running_mean.defined(), op,
               ": eval mode normalises with running statistics, but none were given for input ", x.describe());
  const int64_t count = x.dim(-1) ? x.numel() / x.dim(-1) : 0;  // pixels per channel
  MTINET_CHECK(!training || count > 1, op, ": training needs more than one value per channel, got input ",
               x.describe());

  Tensor mean = running_mean, var = running_var;
  RankMean sync = training ? batch_norm_sync() : RankMean();
  if (training) {
    mean = channel_vector(x);
    var = channel_vector(x);
    kernels::batch_norm_stats(x, mean, var);
    int64_t total = count;
    if (sync) sync_statistics(sync, mean, var, total);
    if (running_mean.defined()) {
      Tensor rm = running_mean, rv = running_var;
      kernels::batch_norm_update_running(mean, var, total, momentum, rm, rv);
    }
  }
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  kernels::batch_norm_apply(x, mean, var, weight, bias, residual, relu, eps, y);

  // In eval mode the running statistics are saved: updating them before this backward is an error, caught by the
  // saved-tensor version check. With a ReLU the output is saved too, for its mask (y > 0 exactly where the sum
  // before the ReLU was); the sum itself, which the unfused ops materialised, is never stored.
  const bool affine_grads = (weight.defined() && weight.requires_grad()) || (bias.defined() && bias.requires_grad());
  std::vector<Tensor> saved{x, weight, mean, var};
  if (relu) saved.push_back(y);
  return record(y, op, {x, weight, bias, residual}, std::move(saved),
                [training, eps, affine_grads, sync, add, relu](const Tensor& gy, const std::vector<Tensor>& saved) {
                  const Tensor &xs = saved[0], &w = saved[1], &m = saved[2], &v = saved[3];
                  const Tensor relu_y = relu ? saved[4] : Tensor();
                  // g: the gradient of BN(x) + residual, i.e. of the BatchNorm output and of the residual.
                  Tensor g = relu ? Tensor::empty(gy.shape(), gy.dtype(), gy.device()) : gy;
                  Tensor sum_gy, sum_gy_xhat;
                  if (training || affine_grads) {
                    sum_gy = channel_vector(xs);
                    sum_gy_xhat = channel_vector(xs);
                    kernels::batch_norm_backward_reduce(gy, xs, m, v, relu_y, eps, sum_gy, sum_gy_xhat, g);
                  } else if (relu) {
                    kernels::relu_backward(relu_y, gy, g);  // eval, frozen affine: no reduction to fold it into
                  }
                  Tensor all_gy = sum_gy, all_gy_xhat = sum_gy_xhat;
                  if (sync) sync_sums(sync, all_gy, all_gy_xhat);
                  Tensor gx = Tensor::empty(xs.shape(), xs.dtype(), xs.device());
                  kernels::batch_norm_backward_input(g, xs, m, v, w, all_gy, all_gy_xhat, eps, training, gx);
                  // sum(g * xhat) is the weight gradient, sum(g) the bias gradient.
                  return std::vector<Tensor>{gx, w.defined() ? sum_gy_xhat : Tensor(), sum_gy, add ? g : Tensor()};
                });
}

}  // namespace mtinet::ops
