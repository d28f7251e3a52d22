// Batch normalisation kernels. x is viewed as rows {M, C}: C is the last dim (NHWC channels or the features of a
// 2-d input) and M = numel / C pixels. Per-channel tensors (mean, var, weight, bias, sums) are {C} in x's dtype.
// weight and bias may be undefined (no affine: weight 1, bias 0). The caller checks shapes, dtypes and devices.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace mtinet::kernels {

// Per-channel mean and biased variance of x over its M rows (f64 accumulation on CPU, fixed reduction order).
void batch_norm_stats(const Tensor& x, Tensor& mean, Tensor& var);
// running = (1-momentum)*running + momentum*batch, with the variance made unbiased (var*count/(count-1)) first.
// Writes both running tensors in place and bumps their versions. count > 1.
void batch_norm_update_running(const Tensor& mean, const Tensor& var, int64_t count, double momentum,
                               Tensor& running_mean, Tensor& running_var);
// y = (x - mean) / sqrt(var + eps) * weight + bias, plus residual (x's shape; may be undefined), then ReLU if
// `relu`: BatchNorm, the residual add and the ReLU in one pass.
void batch_norm_apply(const Tensor& x, const Tensor& mean, const Tensor& var, const Tensor& weight,
                      const Tensor& bias, const Tensor& residual, bool relu, double eps, Tensor& y);
// Per-channel sums over the rows: sum_gy = sum(gy) (the bias gradient), sum_gy_xhat = sum(gy * xhat) (the weight
// gradient) with xhat = (x - mean) / sqrt(var + eps).
// With relu_y defined (the output of a fused ReLU), the given gy is the gradient of that ReLU's output: the sums
// take relu_bwd(relu_y, gy) instead, and that masked gradient (the gradient of the BatchNorm output, and of the
// residual) is written to g_masked in the same pass. g_masked is written only when relu_y is defined.
void batch_norm_backward_reduce(const Tensor& gy, const Tensor& x, const Tensor& mean, const Tensor& var,
                                const Tensor& relu_y, double eps, Tensor& sum_gy, Tensor& sum_gy_xhat,
                                Tensor& g_masked);
// Input gradient. batch_stats: mean/var were the batch's own statistics, so they depend on x:
//   gx = weight*invstd * (gy - sum_gy/M - xhat*sum_gy_xhat/M);
// otherwise (eval, running statistics are constants): gx = weight*invstd*gy, and the sums are not read.
void batch_norm_backward_input(const Tensor& gy, const Tensor& x, const Tensor& mean, const Tensor& var,
                               const Tensor& weight, const Tensor& sum_gy, const Tensor& sum_gy_xhat, double eps,
                               bool batch_stats, Tensor& gx);

void batch_norm_stats_cpu(const Tensor& x, Tensor& mean, Tensor& var);
void batch_norm_update_running_cpu(const Tensor& mean, const Tensor& var, int64_t count, double momentum,
                                   Tensor& running_mean, Tensor& running_var);
void batch_norm_apply_cpu(const Tensor& x, const Tensor& mean, const Tensor& var, const Tensor& weight,
                          const Tensor& bias, const Tensor& residual, bool relu, double eps, Tensor& y);
void batch_norm_backward_reduce_cpu(const Tensor& gy, const Tensor& x, const Tensor& mean, const Tensor& var,
                                    const Tensor& relu_y, double eps, Tensor& sum_gy, Tensor& sum_gy_xhat,
                                    Tensor& g_masked);
void batch_norm_backward_input_cpu(const Tensor& gy, const Tensor& x, const Tensor& mean, const Tensor& var,
                                   const Tensor& weight, const Tensor& sum_gy, const Tensor& sum_gy_xhat, double eps,
                                   bool batch_stats, Tensor& gx);

void batch_norm_stats_cuda(const Tensor& x, Tensor& mean, Tensor& var);
void batch_norm_update_running_cuda(const Tensor& mean, const Tensor& var, int64_t count, double momentum,
                                    Tensor& running_mean, Tensor& running_var);
void batch_norm_apply_cuda(const Tensor& x, const Tensor& mean, const Tensor& var, const Tensor& weight,
                           const Tensor& bias, const Tensor& residual, bool relu, double eps, Tensor& y);
void batch_norm_backward_reduce_cuda(const Tensor& gy, const Tensor& x, const Tensor& mean, const Tensor& var,
                                     const Tensor& relu_y, double eps, Tensor& sum_gy, Tensor& sum_gy_xhat,
                                     Tensor& g_masked);
void batch_norm_backward_input_cuda(const Tensor& gy, const Tensor& x, const Tensor& mean, const Tensor& var,
                                    const Tensor& weight, const Tensor& sum_gy, const Tensor& sum_gy_xhat,
                                    double eps, bool batch_stats, Tensor& gx);

}  // namespace mtinet::kernels
