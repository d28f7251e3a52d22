// CUDA kernels of the upsampled losses, f32 only. Each thread interpolates the label pixels it needs on the fly
// (upsampled_losses_math.h) and applies the plain losses' formulas (losses_math.h).
//
// Forward: the plain losses' deterministic reduction (loss_reduce.cuh) over label pixels (or elements): no
// full-resolution tensor is stored. Backward: the per-pixel (or per-element) gradient is written into a
// stream-ordered full-resolution scratch and resize_bilinear's gather kernel carries it to the low-resolution
// gradient, so the result is deterministic without atomics; the scratch lives only for the call. A fused gather
// would recompute each pixel's softmax for all four of its source pixels.
#include <cstdint>
#include <optional>

#include "core/cuda_runtime.h"
#include "kernels/cuda_foreach.cuh"
#include "kernels/dispatch.h"
#include "kernels/losses/loss_reduce.cuh"
#include "kernels/losses/losses.h"
#include "kernels/losses/losses_math.h"
#include "kernels/losses/upsampled_losses.h"
#include "kernels/losses/upsampled_losses_math.h"
#include "kernels/resize_bilinear/resize_bilinear.h"

namespace mtinet::kernels {

namespace {

using namespace losses_cuda;
using Geometry = UpsampleGeometry<float>;

// ---- per-item forward terms ----

struct UpCeItem {
  Geometry u;
  const int64_t* labels;
  int64_t ignore_index;
  __device__ void operator()(int64_t i, double* acc) const {
    const int64_t y = labels[i];
    if (y == ignore_index) return;
    if (ce_label_bad(y, u.c, ignore_index)) {
      acc[2] += 1.0;
      return;
    }
    const UpsampledPixel<float> s = u.at(i);
    acc[0] += double(ce_pixel_loss_of<float>(s, u.c, y));
    acc[1] += 1.0;
  }
};

struct UpL1Item {
  Geometry u;
  const float* l;
  float invalid;
  __device__ void operator()(int64_t i, double* acc) const {
    if (!l1_valid(l[i], invalid)) return;
    acc[0] += double(magnitude(u.at(i / u.c)[i % u.c] - l[i]));
    acc[1] += 1.0;
  }
};

struct UpNormalsItem {
  Geometry u;
  const float* l;
  __device__ void operator()(int64_t i, double* acc) const {
    if (!normal_label_valid(l + 3 * i)) return;
    const UpsampledPixel<float> p = u.at(i);
    const float x[3] = {p[0], p[1], p[2]};
    acc[0] += double(normals_pixel_l1(x, l + 3 * i));
    acc[1] += 1.0;
  }
};

struct UpBceItem {
  Geometry u;
  const float* labels;
  __device__ void operator()(int64_t i, double* acc) const {
    bool y = bce_positive(double(labels[i]));
    double term = -double(bce_loss_val(u.at(i / u.c)[i % u.c], y));
    acc[y ? 0 : 1] += term;
    if (!y) acc[2] += 1.0;
  }
};

// ---- per-pixel (or per-element) gradients into the full-resolution scratch g ----

// As losses.cu's cross-entropy backward: one thread per pixel finds the log-sum-exp, one thread per logit writes.
struct UpCeLse {
  Geometry u;
  float* lse;
  __device__ void operator()(int64_t i) const { lse[i] = log_sum_exp_of<float>(u.at(i), u.c); }
};

struct UpCeGrad {
  Geometry u;
  const int64_t* labels;
  const float* lse;
  int64_t ignore_index;
  const double* n_valid;
  const float* g;
  float* out;
  __device__ void operator()(int64_t e) const {
    const int64_t i = e / u.c, k = e - i * u.c;
    const int64_t y = labels[i];
    out[e] = y == ignore_index ? 0.f
                               : ce_logit_grad(u.at(i)[k], lse[i], k == y, mean_grad_scale(g[0], n_valid[0]));
  }
};

struct UpL1Grad {
  Geometry u;
  const float* l;
  float invalid;
  const double* n_valid;
  const float* g;
  float* out;
  __device__ void operator()(int64_t e) const {
    out[e] = l1_valid(l[e], invalid) ? l1_sign(u.at(e / u.c)[e % u.c] - l[e]) * mean_grad_scale(g[0], n_valid[0])
                                     : 0.f;
  }
};

struct UpNormalsGrad {
  Geometry u;
  const float* l;
  const double* n_valid;
  const float* g;
  float* out;
  __device__ void operator()(int64_t i) const {
    if (normal_label_valid(l + 3 * i)) {
      const UpsampledPixel<float> p = u.at(i);
      const float x[3] = {p[0], p[1], p[2]};
      normals_pixel_grad(x, l + 3 * i, mean_grad_scale(g[0], 3.0 * n_valid[0]), out + 3 * i);
    } else {
      for (int c = 0; c < 3; ++c) out[3 * i + c] = 0.f;
    }
  }
};

struct UpBceGrad {
  Geometry u;
  const float* labels;
  const double* weight;
  double numel;
  const float* g;
  float* out;
  __device__ void operator()(int64_t e) const {
    out[e] = bce_logit_grad(u.at(e / u.c)[e % u.c], bce_positive(double(labels[e])), float(weight[0]),
                            mean_grad_scale(g[0], numel));
  }
};

Geometry geometry_of(const Tensor& pred, const Tensor& label) {
  return upsample_geometry(pred.data<float>(), pred.dim(0), pred.dim(1), pred.dim(2), pred.dim(3), label.dim(1),
                           label.dim(2));
}

}  // namespace

void upsampled_loss_forward_cuda(const DenseLoss& loss, const Tensor& pred, const Tensor& label, Tensor& out,
                                 Tensor& stat) {
  check_f32("upsampled loss", pred);
  const Geometry u = geometry_of(pred, label);
  const int64_t pixels = u.n * u.oh * u.ow;
  float* lp = out.data<float>();
  double* sp = stat.data<double>();
  switch (loss.kind) {
    case DenseLossKind::CrossEntropy:
      reduce_loss<3>(pixels, UpCeItem{u, label.data<int64_t>(), loss.ignore_index}, MeanFinish<3>{lp, sp, 1.0},
                     "upsampled_cross_entropy_forward");
      if (cuda::debug_sync()) {  // debugging: pay a host copy to name the bad label, as the CPU does
        Tensor host = label.to(Device::CPU);
        check_class_labels(host.data<int64_t>(), host.numel(), u.c, loss.ignore_index, label.describe());
      }
      break;
    case DenseLossKind::MaskedL1:
      reduce_loss<2>(pixels * u.c, UpL1Item{u, label.data<float>(), float(loss.invalid_value)},
                     MeanFinish<2>{lp, sp, 1.0}, "upsampled_masked_l1_forward");
      break;
    case DenseLossKind::NormalsL1:
      reduce_loss<2>(pixels, UpNormalsItem{u, label.data<float>()}, MeanFinish<2>{lp, sp, 3.0},
                     "upsampled_normals_l1_forward");
      break;
    case DenseLossKind::BalancedBce:
      reduce_loss<3>(pixels * u.c, UpBceItem{u, label.data<float>()},
                     BceFinish{lp, sp, double(pixels * u.c), loss.pos_weight.has_value(),
                               loss.pos_weight.value_or(0.0)},
                     "upsampled_balanced_bce_forward");
      break;
  }
}

void upsampled_loss_backward_cuda(const DenseLoss& loss, const Tensor& pred, const Tensor& label, const Tensor& stat,
                                  const Tensor& grad_loss, Tensor& grad_pred) {
  check_f32("upsampled loss backward", pred);
  const Geometry u = geometry_of(pred, label);
  const int64_t pixels = u.n * u.oh * u.ow, elements = pixels * u.c;
  // The full-resolution gradient, freed (stream-ordered) when this returns.
  Tensor full = Tensor::empty({u.n, u.oh, u.ow, u.c}, DType::F32, Device::CUDA);
  float* fp = full.data<float>();
  const double* sp = stat.data<double>();
  const float* gp = grad_loss.data<float>();
  switch (loss.kind) {
    case DenseLossKind::CrossEntropy: {
      Tensor lse = Tensor::empty({pixels}, DType::F32, Device::CUDA);
      for_each_index(pixels, UpCeLse{u, lse.data<float>()}, "upsampled_cross_entropy_lse");
      for_each_index(elements,
                     UpCeGrad{u, label.data<int64_t>(), lse.data<float>(), loss.ignore_index, sp, gp, fp},
                     "upsampled_cross_entropy_backward");
      break;
    }
    case DenseLossKind::MaskedL1:
      for_each_index(elements, UpL1Grad{u, label.data<float>(), float(loss.invalid_value), sp, gp, fp},
                     "upsampled_masked_l1_backward");
      break;
    case DenseLossKind::NormalsL1:
      for_each_index(pixels, UpNormalsGrad{u, label.data<float>(), sp, gp, fp}, "upsampled_normals_l1_backward");
      break;
    case DenseLossKind::BalancedBce:
      for_each_index(elements, UpBceGrad{u, label.data<float>(), sp, double(elements), gp, fp},
                     "upsampled_balanced_bce_backward");
      break;
  }
  resize_bilinear_backward_cuda(full, grad_pred, 0.0, 0.0);
}

}  // namespace mtinet::kernels
