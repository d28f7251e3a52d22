// Device dispatch for the upsampled losses. Written out instead of MTINET_ON_DEVICE so the profiler times each loss
// kind under its own name (upsampled_cross_entropy_forward, ...), as the plain losses are.
#include "kernels/losses/upsampled_losses.h"

#include "kernels/dispatch.h"

namespace mtinet::kernels {

namespace {
const char* kernel_name(DenseLossKind kind, bool forward) {
  switch (kind) {
    case DenseLossKind::CrossEntropy:
      return forward ? "upsampled_cross_entropy_forward" : "upsampled_cross_entropy_backward";
    case DenseLossKind::MaskedL1: return forward ? "upsampled_masked_l1_forward" : "upsampled_masked_l1_backward";
    case DenseLossKind::NormalsL1: return forward ? "upsampled_normals_l1_forward" : "upsampled_normals_l1_backward";
    case DenseLossKind::BalancedBce:
      return forward ? "upsampled_balanced_bce_forward" : "upsampled_balanced_bce_backward";
  }
  return "upsampled_loss";
}
}  // namespace

void upsampled_loss_forward(const DenseLoss& loss, const Tensor& pred, const Tensor& label, Tensor& out,
                            Tensor& stat) {
  profiler::KernelScope scope(kernel_name(loss.kind, true), pred.device());
  if (pred.device() == Device::CPU) return upsampled_loss_forward_cpu(loss, pred, label, out, stat);
#ifdef MTINET_WITH_CUDA
  upsampled_loss_forward_cuda(loss, pred, label, out, stat);
#else
  throw_no_cuda("upsampled_loss_forward");
#endif
}

void upsampled_loss_backward(const DenseLoss& loss, const Tensor& pred, const Tensor& label, const Tensor& stat,
                             const Tensor& grad_loss, Tensor& grad_pred) {
  profiler::KernelScope scope(kernel_name(loss.kind, false), pred.device());
  if (pred.device() == Device::CPU) return upsampled_loss_backward_cpu(loss, pred, label, stat, grad_loss, grad_pred);
#ifdef MTINET_WITH_CUDA
  upsampled_loss_backward_cuda(loss, pred, label, stat, grad_loss, grad_pred);
#else
  throw_no_cuda("upsampled_loss_backward");
#endif
}

}  // namespace mtinet::kernels
