// Bilinear resize of NHWC tensors with PyTorch's align_corners=False semantics (see resize_bilinear_math.h).
// x {N,H,W,C} -> y {N,Ho,Wo,C}; sizes come from the tensors. factor_h/factor_w are the scale factors the output
// size was computed from, or 0 when it was given directly (they choose the source scale, see resize_source_scale).
#pragma once
#include "core/tensor.h"

namespace mtinet::kernels {

void resize_bilinear_forward(const Tensor& x, Tensor& y, double factor_h, double factor_w);
// gx = the adjoint of the forward applied to gy, computed as a gather: each input pixel sums, in a fixed order, the
// weighted gradients of the output pixels that read it. Deterministic on every device; gx is overwritten.
void resize_bilinear_backward(const Tensor& gy, Tensor& gx, double factor_h, double factor_w);

void resize_bilinear_forward_cpu(const Tensor& x, Tensor& y, double factor_h, double factor_w);
void resize_bilinear_backward_cpu(const Tensor& gy, Tensor& gx, double factor_h, double factor_w);
void resize_bilinear_forward_cuda(const Tensor& x, Tensor& y, double factor_h, double factor_w);
void resize_bilinear_backward_cuda(const Tensor& gy, Tensor& gx, double factor_h, double factor_w);

}  // namespace mtinet::kernels
