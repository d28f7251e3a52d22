// Element-wise kernels: relu, sigmoid, add, mul, scale, and the tensor utilities autograd needs
// (fill, accumulate, dtype conversion). All tensors contiguous; the caller checks shapes.
#pragma once
#include "core/tensor.h"

namespace mtinet::kernels {

void fill(Tensor& t, double value);
void convert(const Tensor& src, Tensor& dst);      // dtype conversion, equal shapes
void add_inplace(Tensor& dst, const Tensor& src);  // dst += src; bumps dst's version

void relu_forward(const Tensor& x, Tensor& y);
void relu_backward(const Tensor& x, const Tensor& gy, Tensor& gx);
void sigmoid_forward(const Tensor& x, Tensor& y);
void sigmoid_backward(const Tensor& y, const Tensor& gy, Tensor& gx);
void add_forward(const Tensor& a, const Tensor& b, Tensor& y);             // y = a + b
void mul_forward(const Tensor& a, const Tensor& b, Tensor& y);             // y = a * b
void scale_forward(const Tensor& x, double s, Tensor& y);                  // y = s * x

// Per-device implementations behind the entry points above.
void fill_cpu(Tensor& t, double value);
void convert_cpu(const Tensor& src, Tensor& dst);
void add_inplace_cpu(Tensor& dst, const Tensor& src);
void relu_forward_cpu(const Tensor& x, Tensor& y);
void relu_backward_cpu(const Tensor& x, const Tensor& gy, Tensor& gx);
void sigmoid_forward_cpu(const Tensor& x, Tensor& y);
void sigmoid_backward_cpu(const Tensor& y, const Tensor& gy, Tensor& gx);
void add_forward_cpu(const Tensor& a, const Tensor& b, Tensor& y);
void mul_forward_cpu(const Tensor& a, const Tensor& b, Tensor& y);
void scale_forward_cpu(const Tensor& x, double s, Tensor& y);

void fill_cuda(Tensor& t, double value);
void convert_cuda(const Tensor& src, Tensor& dst);
void add_inplace_cuda(Tensor& dst, const Tensor& src);
void relu_forward_cuda(const Tensor& x, Tensor& y);
void relu_backward_cuda(const Tensor& x, const Tensor& gy, Tensor& gx);
void sigmoid_forward_cuda(const Tensor& x, Tensor& y);
void sigmoid_backward_cuda(const Tensor& y, const Tensor& gy, Tensor& gx);
void add_forward_cuda(const Tensor& a, const Tensor& b, Tensor& y);
void mul_forward_cuda(const Tensor& a, const Tensor& b, Tensor& y);
void scale_forward_cuda(const Tensor& x, double s, Tensor& y);

}  // namespace mtinet::kernels
