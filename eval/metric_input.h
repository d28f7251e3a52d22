// Input checks and element access shared by the evaluation metrics. Metrics read CPU tensors of either float
// dtype without converting them (a batch of semseg logits is large), so values are read through FloatReader.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace mtinet {

// Reads an f32 or f64 tensor's elements as double.
struct FloatReader {
  const float* f32 = nullptr;
  const double* f64 = nullptr;
  double operator[](int64_t i) const { return f32 ? double(f32[i]) : f64[i]; }
};

// Checks that t is a CPU f32/f64 tensor; `what` names the metric and the role ("depth metric: prediction").
FloatReader float_reader(const char* what, const Tensor& t);

// Checks that t is {N, H, W, channels} (channels < 0: any) and on the CPU; returns its channel count.
int64_t check_nhwc(const char* metric, const char* role, const Tensor& t, int64_t channels);

// Checks that label has the batch and spatial size of pred ({N, H, W, ...}); the label may be {N, H, W} or
// {N, H, W, label_channels}.
void check_label_matches(const char* metric, const Tensor& pred, const Tensor& label, int64_t label_channels);

// The logistic function, in double for thresholding near 0 and 1.
double logistic(double x);

}  // namespace mtinet
