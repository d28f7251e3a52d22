// Conversions between mtinet's internal layouts and PyTorch's, used at every user-visible boundary
// (checkpoints, raw prediction dumps, PyTorch fixtures). CPU tensors of any dtype; they return new tensors.
#pragma once
#include "core/tensor.h"

namespace mtinet {

Tensor nchw_to_nhwc(const Tensor& x);  // {N,C,H,W} -> {N,H,W,C}
Tensor nhwc_to_nchw(const Tensor& x);  // {N,H,W,C} -> {N,C,H,W}
Tensor oihw_to_ohwi(const Tensor& w);  // conv weight, PyTorch -> mtinet
Tensor ohwi_to_oihw(const Tensor& w);  // conv weight, mtinet -> PyTorch

}  // namespace mtinet
