// CUDA kernels for the losses, f32 only. The per-pixel math is kernels/losses/losses_math.h, shared with the CPU loops.
//
// Forward sums are deterministic (loss_reduce.cuh): a fixed two-pass tree in double with no atomics, so a loss is
// the same bits on every run. Nothing is read back to the host: the loss, the valid count and the upstream gradient
// all stay on the device. Backward kernels run one thread per pixel (or element) with no reduction, through
// for_each_index (kernels/cuda_foreach.cuh).
#include <cmath>
#include <cstdint>
#include <optional>

#include "core/cuda_runtime.h"
#include "kernels/cuda_foreach.cuh"
#include "kernels/dispatch.h"
#include "kernels/losses/losses.h"
#include "kernels/losses/loss_reduce.cuh"
#include "kernels/losses/losses_math.h"

namespace mtinet::kernels {

namespace {

using namespace losses_cuda;

// ---- per-item forward terms ----

struct CeItem {
  const float* x;
  const int64_t* labels;
  int64_t c;
  int64_t ignore_index;
  __device__ void operator()(int64_t i, double* acc) const {
    int64_t y = labels[i];
    if (y == ignore_index) return;
    if (ce_label_bad(y, c, ignore_index)) {
      acc[2] += 1.0;
      return;
    }
    acc[0] += double(ce_pixel_loss(x + i * c, c, y));
    acc[1] += 1.0;
  }
};

struct L1Item {
  const float* p;
  const float* l;
  float invalid;
  __device__ void operator()(int64_t i, double* acc) const {
    if (!l1_valid(l[i], invalid)) return;
    acc[0] += double(magnitude(p[i] - l[i]));
    acc[1] += 1.0;
  }
};

struct NormalsItem {
  const float* p;
  const float* l;
  __device__ void operator()(int64_t i, double* acc) const {
    if (!normal_label_valid(l + 3 * i)) return;
    acc[0] += double(normals_pixel_l1(p + 3 * i, l + 3 * i));
    acc[1] += 1.0;
  }
};

struct BceItem {
  const float* x;
  const float* labels;
  __device__ void operator()(int64_t i, double* acc) const {
    bool y = bce_positive(double(labels[i]));
    double term = -double(bce_loss_val(x[i], y));
    acc[y ? 0 : 1] += term;
    if (!y) acc[2] += 1.0;
  }
};

// ---- per-pixel backward ----

// Cross-entropy backward in two passes so the big write is coalesced: one thread per pixel finds the pixel's
// log-sum-exp (reads are cached: a warp's pixels share cache lines), then one thread per logit writes its gradient.
// The per-pixel form, one thread writing a pixel's c gradients c * 4 bytes apart from its neighbours', was 6x slower
// at c = 40. The arithmetic is the same as the CPU's (ce_logit_grad), so results do not change.
struct CeLse {
  const float* x;
  int64_t c;
  float* lse;
  __device__ void operator()(int64_t i) const { lse[i] = log_sum_exp(x + i * c, c); }
};

struct CeGrad {
  const float* x;
  const int64_t* labels;
  const float* lse;
  int64_t c;
  int64_t ignore_index;
  const double* n_valid;
  const float* g;
  float* gx;
  __device__ void operator()(int64_t e) const {
    const int64_t i = e / c, k = e - i * c;
    const int64_t y = labels[i];
    gx[e] = y == ignore_index ? 0.f : ce_logit_grad(x[e], lse[i], k == y, mean_grad_scale(g[0], n_valid[0]));
  }
};

struct L1Grad {
  const float* p;
  const float* l;
  float invalid;
  const double* n_valid;
  const float* g;
  float* gp;
  __device__ void operator()(int64_t i) const {
    gp[i] = l1_valid(l[i], invalid) ? l1_sign(p[i] - l[i]) * mean_grad_scale(g[0], n_valid[0]) : 0.f;
  }
};

struct NormalsGrad {
  const float* p;
  const float* l;
  const double* n_valid;
  const float* g;
  float* gp;
  __device__ void operator()(int64_t i) const {
    if (normal_label_valid(l + 3 * i)) {
      normals_pixel_grad(p + 3 * i, l + 3 * i, mean_grad_scale(g[0], 3.0 * n_valid[0]), gp + 3 * i);
    } else {
      for (int c = 0; c < 3; ++c) gp[3 * i + c] = 0.f;
    }
  }
};

struct BceGrad {
  const float* x;
  const float* labels;
  const double* weight;
  double numel;
  const float* g;
  float* gx;
  __device__ void operator()(int64_t i) const {
    gx[i] = bce_logit_grad(x[i], bce_positive(double(labels[i])), float(weight[0]), mean_grad_scale(g[0], numel));
  }
};

}  // namespace

void cross_entropy_forward_cuda(const Tensor& logits, const Tensor& labels, int64_t ignore_index, Tensor& loss,
                                Tensor& n_valid) {
  check_f32("cross_entropy", logits);
  int64_t c = logits.dim(-1);
  reduce_loss<3>(labels.numel(), CeItem{logits.data<float>(), labels.data<int64_t>(), c, ignore_index},
                 MeanFinish<3>{loss.data<float>(), n_valid.data<double>(), 1.0}, "cross_entropy_forward");
  if (cuda::debug_sync()) {  // debugging: pay a host copy to name the bad label, as the CPU does
    Tensor host = labels.to(Device::CPU);
    check_class_labels(host.data<int64_t>(), host.numel(), c, ignore_index, labels.describe());
  }
}

void cross_entropy_backward_cuda(const Tensor& logits, const Tensor& labels, int64_t ignore_index,
                                 const Tensor& n_valid, const Tensor& grad_loss, Tensor& grad_logits) {
  check_f32("cross_entropy backward", logits);
  const int64_t c = logits.dim(-1);
  Tensor lse = Tensor::empty({labels.numel()}, DType::F32, Device::CUDA);  // stream-ordered scratch
  for_each_index(labels.numel(), CeLse{logits.data<float>(), c, lse.data<float>()}, "cross_entropy_lse");
  for_each_index(logits.numel(),
                 CeGrad{logits.data<float>(), labels.data<int64_t>(), lse.data<float>(), c, ignore_index,
                        n_valid.data<double>(), grad_loss.data<float>(), grad_logits.data<float>()},
                 "cross_entropy_backward");
}

void masked_l1_forward_cuda(const Tensor& pred, const Tensor& label, double invalid_value, Tensor& loss,
                            Tensor& n_valid) {
  check_f32("masked_l1", pred);
  reduce_loss<2>(pred.numel(), L1Item{pred.data<float>(), label.data<float>(), float(invalid_value)},
                 MeanFinish<2>{loss.data<float>(), n_valid.data<double>(), 1.0}, "masked_l1_forward");
}

void masked_l1_backward_cuda(const Tensor& pred, const Tensor& label, double invalid_value, const Tensor& n_valid,
                             const Tensor& grad_loss, Tensor& grad_pred) {
  check_f32("masked_l1 backward", pred);
  for_each_index(pred.numel(),
                 L1Grad{pred.data<float>(), label.data<float>(), float(invalid_value), n_valid.data<double>(),
                        grad_loss.data<float>(), grad_pred.data<float>()},
                 "masked_l1_backward");
}

void normals_l1_forward_cuda(const Tensor& pred, const Tensor& label, Tensor& loss, Tensor& n_valid) {
  check_f32("normals_l1", pred);
  reduce_loss<2>(pred.numel() / 3, NormalsItem{pred.data<float>(), label.data<float>()},
                 MeanFinish<2>{loss.data<float>(), n_valid.data<double>(), 3.0}, "normals_l1_forward");
}

void normals_l1_backward_cuda(const Tensor& pred, const Tensor& label, const Tensor& n_valid, const Tensor& grad_loss,
                              Tensor& grad_pred) {
  check_f32("normals_l1 backward", pred);
  for_each_index(pred.numel() / 3,
                 NormalsGrad{pred.data<float>(), label.data<float>(), n_valid.data<double>(), grad_loss.data<float>(),
                             grad_pred.data<float>()},
                 "normals_l1_backward");
}

void balanced_bce_forward_cuda(const Tensor& logits, const Tensor& labels, std::optional<double> pos_weight,
                               Tensor& loss, Tensor& weight) {
  check_f32("balanced_bce", logits);
  double numel = double(logits.numel());
  reduce_loss<3>(logits.numel(), BceItem{logits.data<float>(), labels.data<float>()},
                 BceFinish{loss.data<float>(), weight.data<double>(), numel, pos_weight.has_value(),
                           pos_weight.value_or(0.0)},
                 "balanced_bce_forward");
}

void balanced_bce_backward_cuda(const Tensor& logits, const Tensor& labels, const Tensor& weight,
                                const Tensor& grad_loss, Tensor& grad_logits) {
  check_f32("balanced_bce backward", logits);
  for_each_index(logits.numel(),
                 BceGrad{logits.data<float>(), labels.data<float>(), weight.data<double>(), double(logits.numel()),
                         grad_loss.data<float>(), grad_logits.data<float>()},
                 "balanced_bce_backward");
}

}  // namespace mtinet::kernels
