// Reductions: sum of all elements (f64 accumulation on CPU), argmax over the channel (last) dim.
#pragma once
#include "core/tensor.h"

namespace mtinet::kernels {

void sum_all(const Tensor& x, Tensor& out);           // out: 0-d, same dtype as x
void argmax_channels(const Tensor& x, Tensor& out);   // x {..., C} -> out {...} i64; the first maximum wins
void broadcast_scalar(const Tensor& s, double factor, Tensor& out);  // out[i] = factor * s (s 0-d): sum/mean backward

void sum_all_cpu(const Tensor& x, Tensor& out);
void argmax_channels_cpu(const Tensor& x, Tensor& out);
void broadcast_scalar_cpu(const Tensor& s, double factor, Tensor& out);
void sum_all_cuda(const Tensor& x, Tensor& out);
void argmax_channels_cuda(const Tensor& x, Tensor& out);
void broadcast_scalar_cuda(const Tensor& s, double factor, Tensor& out);

}  // namespace mtinet::kernels
