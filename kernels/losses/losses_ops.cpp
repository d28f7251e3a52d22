// The four MTI-Net losses: cross entropy (semseg, human parts), masked L1 (depth), normals L1, balanced BCE
// (edge, saliency), and the same four on a bilinearly upsampled prediction (deep supervision). Forward dispatches to
// kernels/losses/losses* and kernels/losses/upsampled_losses*, backward is recorded beside it. Each loss is a 0-d
// tensor of the prediction's dtype on its device; the statistic its backward needs (valid count or BCE weight) stays
// on the device too, saved as a 0-d f64 tensor. Labels get no gradient.
#include "core/autograd.h"
#include "core/ops.h"
#include "kernels/losses/losses.h"
#include "kernels/losses/upsampled_losses.h"

namespace mtinet::ops {

namespace {
Tensor scalar_like(const Tensor& x) { return Tensor::empty({}, x.dtype(), x.device()); }
Tensor statistic_for(const Tensor& x) { return Tensor::empty({}, DType::F64, x.device()); }
Tensor grad_like(const Tensor& x) { return Tensor::empty(x.shape(), x.dtype(), x.device()); }

// A prediction and a float label map of equal shape, dtype and device.
void check_dense_pair(const char* op, const Tensor& pred, const Tensor& label) {
  check_floating(op, pred);
  check_same_shape(op, pred, label);
  check_same_device(op, pred, label);
  MTINET_CHECK(pred.dtype() == label.dtype(), op, ": dtype mismatch between ", pred.describe(), " and ",
               label.describe());
}
}  // namespace

Tensor cross_entropy(const Tensor& logits, const Tensor& labels, int64_t ignore_index) {
  check_floating("cross_entropy", logits);
  MTINET_CHECK(logits.ndim() >= 1 && logits.dim(-1) > 0, "cross_entropy: logits need a non-empty class dim, got ",
               logits.describe());
  MTINET_CHECK(labels.dtype() == DType::I64, "cross_entropy: labels must be i64, got ", labels.describe());
  Shape pixels(logits.shape().begin(), logits.shape().end() - 1);
  MTINET_CHECK(labels.shape() == pixels, "cross_entropy: labels ", labels.describe(),
               " must have the shape of the logits without their class dim, ", shape_str(pixels), " for logits ",
               logits.describe());
  check_same_device("cross_entropy", logits, labels);
  Tensor loss = scalar_like(logits), n_valid = statistic_for(logits);
  kernels::cross_entropy_forward(logits, labels, ignore_index, loss, n_valid);
  return record(loss, "cross_entropy", {logits}, {logits, labels, n_valid},
                [ignore_index](const Tensor& g, const std::vector<Tensor>& saved) {
                  Tensor gx = grad_like(saved[0]);
                  kernels::cross_entropy_backward(saved[0], saved[1], ignore_index, saved[2], g, gx);
                  return std::vector<Tensor>{gx};
                });
}

Tensor masked_l1(const Tensor& pred, const Tensor& label, double invalid_value) {
  check_dense_pair("masked_l1", pred, label);
  Tensor loss = scalar_like(pred), n_valid = statistic_for(pred);
  kernels::masked_l1_forward(pred, label, invalid_value, loss, n_valid);
  return record(loss, "masked_l1", {pred}, {pred, label, n_valid},
                [invalid_value](const Tensor& g, const std::vector<Tensor>& saved) {
                  Tensor gp = grad_like(saved[0]);
                  kernels::masked_l1_backward(saved[0], saved[1], invalid_value, saved[2], g, gp);
                  return std::vector<Tensor>{gp};
                });
}

Tensor normals_l1(const Tensor& pred, const Tensor& label) {
  check_dense_pair("normals_l1", pred, label);
  MTINET_CHECK(pred.ndim() >= 1 && pred.dim(-1) == 3, "normals_l1: expected 3 channels (last dim), got ",
               pred.describe());
  Tensor loss = scalar_like(pred), n_valid = statistic_for(pred);
  kernels::normals_l1_forward(pred, label, loss, n_valid);
  return record(loss, "normals_l1", {pred}, {pred, label, n_valid},
                [](const Tensor& g, const std::vector<Tensor>& saved) {
                  Tensor gp = grad_like(saved[0]);
                  kernels::normals_l1_backward(saved[0], saved[1], saved[2], g, gp);
                  return std::vector<Tensor>{gp};
                });
}

Tensor balanced_bce(const Tensor& logits, const Tensor& labels, std::optional<double> pos_weight) {
  check_dense_pair("balanced_bce", logits, labels);
  MTINET_CHECK(logits.numel() > 0, "balanced_bce of an empty tensor ", logits.describe());
  Tensor loss = scalar_like(logits), weight = statistic_for(logits);
  kernels::balanced_bce_forward(logits, labels, pos_weight, loss, weight);
  return record(loss, "balanced_bce", {logits}, {logits, labels, weight},
                [](const Tensor& g, const std::vector<Tensor>& saved) {
                  Tensor gx = grad_like(saved[0]);
                  kernels::balanced_bce_backward(saved[0], saved[1], saved[2], g, gx);
                  return std::vector<Tensor>{gx};
                });
}

// ---- upsampled losses ----

namespace {
// A low-resolution NHWC prediction and a label of the same batch on the same device; dense labels ({N,H,W,C},
// pred's dtype) also share its channels.
void check_upsampled(const char* op, const Tensor& pred, const Tensor& label, bool dense_label) {
  check_floating(op, pred);
  check_ndim(op, pred, 4);
  MTINET_CHECK(pred.dim(1) > 0 && pred.dim(2) > 0 && pred.dim(3) > 0, op, ": prediction ", pred.describe(),
               " is empty");
  check_same_device(op, pred, label);
  if (dense_label) {
    MTINET_CHECK(label.ndim() == 4 && label.dim(0) == pred.dim(0) && label.dim(3) == pred.dim(3), op, ": label ",
                 label.describe(), " must be {N,H,W,C} with the batch and channels of the prediction ",
                 pred.describe());
    MTINET_CHECK(pred.dtype() == label.dtype(), op, ": dtype mismatch between ", pred.describe(), " and ",
                 label.describe());
  } else {
    MTINET_CHECK(label.dtype() == DType::I64, op, ": labels must be i64, got ", label.describe());
    MTINET_CHECK(label.ndim() == 3 && label.dim(0) == pred.dim(0), op, ": labels ", label.describe(),
                 " must be {N,H,W} with the batch of the logits ", pred.describe());
  }
  MTINET_CHECK(label.dim(1) > 0 && label.dim(2) > 0, op, ": label ", label.describe(), " has an empty size");
}

Tensor upsampled_loss(const char* op, const kernels::DenseLoss& kind, const Tensor& pred, const Tensor& label) {
  Tensor loss = scalar_like(pred), stat = statistic_for(pred);
  kernels::upsampled_loss_forward(kind, pred, label, loss, stat);
  return record(loss, op, {pred}, {pred, label, stat}, [kind](const Tensor& g, const std::vector<Tensor>& saved) {
    Tensor gp = grad_like(saved[0]);
    kernels::upsampled_loss_backward(kind, saved[0], saved[1], saved[2], g, gp);
    return std::vector<Tensor>{gp};
  });
}
}  // namespace

Tensor upsampled_cross_entropy(const Tensor& logits, const Tensor& labels, int64_t ignore_index) {
  check_upsampled("upsampled_cross_entropy", logits, labels, false);
  return upsampled_loss("upsampled_cross_entropy", {kernels::DenseLossKind::CrossEntropy, ignore_index, 0.0, {}},
                        logits, labels);
}

Tensor upsampled_masked_l1(const Tensor& pred, const Tensor& label, double invalid_value) {
  check_upsampled("upsampled_masked_l1", pred, label, true);
  return upsampled_loss("upsampled_masked_l1", {kernels::DenseLossKind::MaskedL1, 0, invalid_value, {}}, pred,
                        label);
}

Tensor upsampled_normals_l1(const Tensor& pred, const Tensor& label) {
  check_upsampled("upsampled_normals_l1", pred, label, true);
  MTINET_CHECK(pred.dim(3) == 3, "upsampled_normals_l1: expected 3 channels (last dim), got ", pred.describe());
  return upsampled_loss("upsampled_normals_l1", {kernels::DenseLossKind::NormalsL1, 0, 0.0, {}}, pred, label);
}

Tensor upsampled_balanced_bce(const Tensor& logits, const Tensor& labels, std::optional<double> pos_weight) {
  check_upsampled("upsampled_balanced_bce", logits, labels, true);
  return upsampled_loss("upsampled_balanced_bce", {kernels::DenseLossKind::BalancedBce, 0, 0.0, pos_weight}, logits,
                        labels);
}

}  // namespace mtinet::ops
