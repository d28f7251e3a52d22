// 2-D convolution kernels on NHWC activations and OHWI weights, plus the per-channel bias helpers that conv2d and
// linear share. The caller (kernels/conv/conv_ops.cpp) validates shapes and allocates outputs; all tensors are
// contiguous and of one dtype and device.
//
// CPU: GEMMs through CBLAS (kernels/conv/conv2d_cpu.cpp). CUDA: cuDNN with NHWC descriptors (kernels/conv/conv2d.cu).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace mtinet::kernels {

// Every size of one convolution, fixed once the inputs are validated.
struct Conv2dShape {
  int64_t n = 0, h = 0, w = 0, cin = 0;  // input  {N, H, W, Cin}
  int64_t cout = 0, kh = 0, kw = 0;      // weight {Cout, KH, KW, Cin}
  int64_t ho = 0, wo = 0;                // output {N, Ho, Wo, Cout}
  int64_t stride = 1, padding = 0, dilation = 1;

  // A 1x1 stride-1 unpadded convolution reads each pixel once: the input pixels are already the GEMM operand.
  bool is_pointwise() const { return kh == 1 && kw == 1 && stride == 1 && padding == 0; }
  int64_t patch_size() const { return kh * kw * cin; }  // one im2col row, in OHWI weight order (kh, kw, ci)
  int64_t out_pixels() const { return ho * wo; }        // per image
};

// y = conv(x, w) (+ bias[c] when bias is defined).
void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dShape& s, Tensor& y);
// gx = dL/dx given gy = dL/dy.
void conv2d_backward_input(const Tensor& gy, const Tensor& w, const Conv2dShape& s, Tensor& gx);
// gw = dL/dw given gy and the forward input x.
void conv2d_backward_weight(const Tensor& gy, const Tensor& x, const Conv2dShape& s, Tensor& gw);

// Per-channel bias over the last dim: y[..., c] += b[c], and its gradient gb[c] = sum over all leading dims of
// gy[..., c], summed in a fixed order (the same bits on every run and thread count).
void bias_add(Tensor& y, const Tensor& b);
void bias_backward(const Tensor& gy, Tensor& gb);

void conv2d_forward_cpu(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dShape& s, Tensor& y);
void conv2d_backward_input_cpu(const Tensor& gy, const Tensor& w, const Conv2dShape& s, Tensor& gx);
void conv2d_backward_weight_cpu(const Tensor& gy, const Tensor& x, const Conv2dShape& s, Tensor& gw);
void bias_add_cpu(Tensor& y, const Tensor& b);
void bias_backward_cpu(const Tensor& gy, Tensor& gb);

void conv2d_forward_cuda(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dShape& s, Tensor& y);
void conv2d_backward_input_cuda(const Tensor& gy, const Tensor& w, const Conv2dShape& s, Tensor& gx);
void conv2d_backward_weight_cuda(const Tensor& gy, const Tensor& x, const Conv2dShape& s, Tensor& gw);
void bias_add_cuda(Tensor& y, const Tensor& b);
void bias_backward_cuda(const Tensor& gy, Tensor& gb);
// One line per distinct convolution run so far on CUDA: its shape and, per direction, the cuDNN algorithm chosen,
// its math mode, workspace and benchmark time (for `mtinet bench train`).
std::vector<std::string> conv2d_cuda_plans();

}  // namespace mtinet::kernels
