// Device dispatch for the batch-norm kernels.
#include "kernels/batch_norm/batch_norm.h"

#include "kernels/dispatch.h"

namespace mtinet::kernels {

void batch_norm_stats(const Tensor& x, Tensor& mean, Tensor& var) {
  MTINET_ON_DEVICE(x.device(), batch_norm_stats, x, mean, var);
}

void batch_norm_update_running(const Tensor& mean, const Tensor& var, int64_t count, double momentum,
                               Tensor& running_mean, Tensor& running_var) {
  MTINET_ON_DEVICE(mean.device(), batch_norm_update_running, mean, var, count, momentum, running_mean, running_var);
  running_mean.bump_version();
  running_var.bump_version();
}

void batch_norm_apply(const Tensor& x, const Tensor& mean, const Tensor& var, const Tensor& weight,
                      const Tensor& bias, const Tensor& residual, bool relu, double eps, Tensor& y) {
  MTINET_ON_DEVICE(x.device(), batch_norm_apply, x, mean, var, weight, bias, residual, relu, eps, y);
}

void batch_norm_backward_reduce(const Tensor& gy, const Tensor& x, const Tensor& mean, const Tensor& var,
                                const Tensor& relu_y, double eps, Tensor& sum_gy, Tensor& sum_gy_xhat,
                                Tensor& g_masked) {
  MTINET_ON_DEVICE(x.device(), batch_norm_backward_reduce, gy, x, mean, var, relu_y, eps, sum_gy, sum_gy_xhat,
                   g_masked);
}

void batch_norm_backward_input(const Tensor& gy, const Tensor& x, const Tensor& mean, const Tensor& var,
                               const Tensor& weight, const Tensor& sum_gy, const Tensor& sum_gy_xhat, double eps,
                               bool batch_stats, Tensor& gx) {
  MTINET_ON_DEVICE(x.device(), batch_norm_backward_input, gy, x, mean, var, weight, sum_gy, sum_gy_xhat, eps,
                   batch_stats, gx);
}

}  // namespace mtinet::kernels
