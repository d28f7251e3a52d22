// Per-element optimiser updates, shared by the CPU loops and the CUDA kernels. The formulas follow PyTorch's
// torch.optim implementations operation for operation, so one step matches PyTorch to rounding.
#pragma once
#include <cmath>

#include "kernels/dispatch.h"

namespace mtinet::kernels {

struct SgdParams {
  double lr, momentum, weight_decay;
  bool nesterov;
};

// buf starts at zero, which makes the first step's buf = g, as PyTorch's clone-on-first-step (dampening 0).
template <class T> MTINET_HD void sgd_update(T& p, T g, T& buf, const SgdParams& h) {
  if (h.weight_decay != 0) g = g + T(h.weight_decay) * p;
  if (h.momentum != 0) {
    buf = T(h.momentum) * buf + g;
    g = h.nesterov ? g + T(h.momentum) * buf : buf;
  }
  p = p - T(h.lr) * g;
}

struct AdamParams {
  double lr, beta1, beta2, eps, weight_decay;
  bool decoupled;     // AdamW: p *= 1 - lr*wd before the update; Adam: wd*p added to the gradient
  double bias_correction1, bias_correction2;  // 1 - beta^step
};

template <class T> MTINET_HD void adam_update(T& p, T g, T& m, T& v, const AdamParams& h) {
  if (h.weight_decay != 0) {
    if (h.decoupled) p = p * T(1 - h.lr * h.weight_decay);
    else g = g + T(h.weight_decay) * p;
  }
  m = m + (g - m) * T(1 - h.beta1);           // PyTorch: exp_avg.lerp_(grad, 1 - beta1)
  v = v * T(h.beta2) + g * g * T(1 - h.beta2);  // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2)
  T denom = sqrt(v) / T(sqrt(h.bias_correction2)) + T(h.eps);
  p = p - T(h.lr / h.bias_correction1) * (m / denom);
}

}  // namespace mtinet::kernels
