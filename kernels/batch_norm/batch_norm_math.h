// Per-element and per-channel batch-norm math shared by the CPU loops (batch_norm_cpu.cpp) and the CUDA kernels
// (batch_norm.cu), so the CPU tests cover the device formulas.
#pragma once
#include <cmath>

#include "kernels/dispatch.h"
#include "kernels/elementwise/elementwise_math.h"

namespace mtinet::kernels {

// eps goes inside the square root, as in PyTorch.
template <class T> MTINET_HD T bn_invstd(T var, T eps) { return T(1) / sqrt(var + eps); }

// One step of the exponential moving average of a running statistic.
template <class T> MTINET_HD T bn_running_update(T running, T batch, T momentum) {
  return (T(1) - momentum) * running + momentum * batch;
}

// The running variance tracks the unbiased estimate (Bessel's correction over the count pixels per channel).
template <class T> MTINET_HD T bn_unbiased_var(T biased_var, T count) { return biased_var * count / (count - T(1)); }

// y from x with the channel's mean, invstd and affine parameters.
template <class T> MTINET_HD T bn_apply(T x, T mean, T invstd, T weight, T bias) {
  return (x - mean) * invstd * weight + bias;
}

// The fused epilogue of batch_norm_relu: the residual branch added to the normalised value (when `add`), then ReLU
// (when `relu`). Each step rounds to T exactly as the separate batch_norm, add and relu ops did, so the fused op has
// their bits. Without `add` nothing is added (not even 0, which would turn -0 into +0).
template <class T> MTINET_HD T bn_add_relu(T normalised, T residual, bool add, bool relu) {
  T s = add ? normalised + residual : normalised;
  return relu ? relu_fwd(s) : s;
}

// Input gradient when the statistics are the batch's own: the mean and variance depend on every x of the channel,
// which removes the gradient's projection on 1 and on xhat. mean_gy = sum(gy)/M, mean_gy_xhat = sum(gy*xhat)/M.
template <class T> MTINET_HD T bn_grad_input_batch(T gy, T xhat, T weight_invstd, T mean_gy, T mean_gy_xhat) {
  return weight_invstd * (gy - mean_gy - xhat * mean_gy_xhat);
}

}  // namespace mtinet::kernels
