// Global average pooling and per-(image, channel) scaling (SE gating) over NHWC tensors {N,H,W,C}; the per-image
// channel vectors are {N,C}. All tensors contiguous, one dtype; the caller checks shapes.
#pragma once
#include "core/tensor.h"

namespace mtinet::kernels {

void global_avg_pool_forward(const Tensor& x, Tensor& y);    // y[n,c] = mean over h,w of x[n,h,w,c]
void global_avg_pool_backward(const Tensor& gy, Tensor& gx);  // gx[n,h,w,c] = gy[n,c] / (H*W)
void channel_scale_forward(const Tensor& x, const Tensor& s, Tensor& y);  // y[n,h,w,c] = x[n,h,w,c] * s[n,c]
// gx = gy * s and gs[n,c] = sum over h,w of gy*x; either output may be undefined to skip it.
void channel_scale_backward(const Tensor& gy, const Tensor& x, const Tensor& s, Tensor& gx, Tensor& gs);

void global_avg_pool_forward_cpu(const Tensor& x, Tensor& y);
void global_avg_pool_backward_cpu(const Tensor& gy, Tensor& gx);
void channel_scale_forward_cpu(const Tensor& x, const Tensor& s, Tensor& y);
void channel_scale_backward_cpu(const Tensor& gy, const Tensor& x, const Tensor& s, Tensor& gx, Tensor& gs);

void global_avg_pool_forward_cuda(const Tensor& x, Tensor& y);
void global_avg_pool_backward_cuda(const Tensor& gy, Tensor& gx);
void channel_scale_forward_cuda(const Tensor& x, const Tensor& s, Tensor& y);
void channel_scale_backward_cuda(const Tensor& gy, const Tensor& x, const Tensor& s, Tensor& gx, Tensor& gs);

}  // namespace mtinet::kernels
