// Optimiser steps and gradient-norm utilities over flat parameter/gradient/state buffers (core/parameter_set.h).
#pragma once
#include "core/tensor.h"
#include "kernels/optimizer/optimizer_math.h"

namespace mtinet::kernels {

void sgd_step(Tensor& params, const Tensor& grads, Tensor& momentum_buf, const SgdParams& h);
void adam_step(Tensor& params, const Tensor& grads, Tensor& m, Tensor& v, const AdamParams& h);
// Sum of squares of all elements, accumulated in f64, returned as a 0-d f32/f64 tensor on the same device (no sync).
void sum_squares(const Tensor& x, Tensor& out);
// x *= s where s is a 0-d tensor on the device (so clipping needs no host round trip).
void scale_by(Tensor& x, const Tensor& s);

void sgd_step_cpu(Tensor& params, const Tensor& grads, Tensor& momentum_buf, const SgdParams& h);
void adam_step_cpu(Tensor& params, const Tensor& grads, Tensor& m, Tensor& v, const AdamParams& h);
void sum_squares_cpu(const Tensor& x, Tensor& out);
void scale_by_cpu(Tensor& x, const Tensor& s);
void sgd_step_cuda(Tensor& params, const Tensor& grads, Tensor& momentum_buf, const SgdParams& h);
void adam_step_cuda(Tensor& params, const Tensor& grads, Tensor& m, Tensor& v, const AdamParams& h);
void sum_squares_cuda(const Tensor& x, Tensor& out);
void scale_by_cuda(Tensor& x, const Tensor& s);

}  // namespace mtinet::kernels
