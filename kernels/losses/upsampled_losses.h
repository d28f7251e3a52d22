// The losses of losses.h taken on a bilinearly upsampled prediction without storing the upsampled tensor:
// loss(pred, label) = L(resize_bilinear(pred, H, W), label) with L one of the four dense losses and H x W the
// label's size. Deep supervision reads MTI-Net's 1/4..1/32-resolution predictions this way at full resolution.
//
// The forward interpolates each label pixel's channels on the fly (upsampled_losses_math.h) and sums the loss
// terms in the same fixed order as the plain loss. The backward writes the gradient with respect to the
// low-resolution prediction: on the CPU each pixel's gradient is computed once and added through its bilinear
// taps, every low-resolution element summing its contributions in the order resize_bilinear's gather uses (output
// rows, then columns), whatever the thread count; so on the CPU the results are the unfused composition's bits.
// On CUDA the per-pixel gradient goes through a stream-ordered full-resolution scratch and resize_bilinear's
// gather kernel (deterministic, no atomics); only the forward saves memory there.
//
// Shapes: pred {N,h,w,C}; label {N,H,W} i64 for cross entropy, else {N,H,W,C} of pred's dtype. loss and stat as
// in losses.h (0-d, stat f64: the valid count, or BCE's weight). All contiguous; losses_ops.cpp checks them.
#pragma once
#include <cstdint>
#include <optional>

#include "core/tensor.h"

namespace mtinet::kernels {

enum class DenseLossKind { CrossEntropy, MaskedL1, NormalsL1, BalancedBce };

// Which loss, with its parameter.
struct DenseLoss {
  DenseLossKind kind;
  int64_t ignore_index = 255;        // cross entropy
  double invalid_value = 0.0;        // masked L1
  std::optional<double> pos_weight;  // balanced BCE (none: the batch's fraction of negatives)
};

void upsampled_loss_forward(const DenseLoss& loss, const Tensor& pred, const Tensor& label, Tensor& out,
                            Tensor& stat);
// grad_pred {N,h,w,C} is overwritten.
void upsampled_loss_backward(const DenseLoss& loss, const Tensor& pred, const Tensor& label, const Tensor& stat,
                             const Tensor& grad_loss, Tensor& grad_pred);

void upsampled_loss_forward_cpu(const DenseLoss& loss, const Tensor& pred, const Tensor& label, Tensor& out,
                                Tensor& stat);
void upsampled_loss_backward_cpu(const DenseLoss& loss, const Tensor& pred, const Tensor& label, const Tensor& stat,
                                 const Tensor& grad_loss, Tensor& grad_pred);
void upsampled_loss_forward_cuda(const DenseLoss& loss, const Tensor& pred, const Tensor& label, Tensor& out,
                                 Tensor& stat);
void upsampled_loss_backward_cuda(const DenseLoss& loss, const Tensor& pred, const Tensor& label,
                                  const Tensor& stat, const Tensor& grad_loss, Tensor& grad_pred);

}  // namespace mtinet::kernels
