// The four MTI-Net losses: cross entropy (semseg, human parts), masked L1 (depth), normals L1, balanced BCE
// (edge, saliency). Forward dispatches to kernels/losses/losses*, backward is recorded beside it. Each loss is a 0-d
// tensor of the prediction's dtype on its device; the statistic its backward needs (valid count or BCE weight) stays
// on the device too, saved as a 0-d f64 tensor. Labels get no gradient.
#include "core/autograd.h"
#include "core/ops.h"
#include "kernels/losses/losses.h"

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

}  // namespace mtinet::ops
