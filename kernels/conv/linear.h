// Fully connected layer kernels: x {N, I}, w {O, I} (PyTorch layout), y = x w^T (+ b). The caller
// (kernels/conv/conv_ops.cpp) validates shapes and allocates outputs; the bias gradient is kernels::bias_backward
// (kernels/conv/conv2d.h). CPU through CBLAS, CUDA through cuBLAS.
#pragma once
#include "core/tensor.h"

namespace mtinet::kernels {

void linear_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y);  // bias may be undefined
void linear_backward_input(const Tensor& gy, const Tensor& w, Tensor& gx);             // gx = gy w
void linear_backward_weight(const Tensor& gy, const Tensor& x, Tensor& gw);            // gw = gy^T x

void linear_forward_cpu(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y);
void linear_backward_input_cpu(const Tensor& gy, const Tensor& w, Tensor& gx);
void linear_backward_weight_cpu(const Tensor& gy, const Tensor& x, Tensor& gw);

void linear_forward_cuda(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y);
void linear_backward_input_cuda(const Tensor& gy, const Tensor& w, Tensor& gx);
void linear_backward_weight_cuda(const Tensor& gy, const Tensor& x, Tensor& gw);

}  // namespace mtinet::kernels
