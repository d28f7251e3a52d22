// Softmax over each group of `group` adjacent entries of the last dim (MTI-Net's FPM mask): entries
// [g*group, (g+1)*group) of every row form one softmax. numel divisible by group; the caller checks it.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace mtinet::kernels {

void grouped_softmax_forward(const Tensor& x, int64_t group, Tensor& y);
// gx = y * (gy - sum over the group of gy*y), from the saved output y.
void grouped_softmax_backward(const Tensor& y, const Tensor& gy, int64_t group, Tensor& gx);

void grouped_softmax_forward_cpu(const Tensor& x, int64_t group, Tensor& y);
void grouped_softmax_backward_cpu(const Tensor& y, const Tensor& gy, int64_t group, Tensor& gx);
void grouped_softmax_forward_cuda(const Tensor& x, int64_t group, Tensor& y);
void grouped_softmax_backward_cuda(const Tensor& y, const Tensor& gy, int64_t group, Tensor& gx);

}  // namespace mtinet::kernels
