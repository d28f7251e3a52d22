// The softmax of one group of adjacent values and its backward, shared by the CPU loop
// (grouped_softmax_cpu.cpp) and the CUDA kernel (grouped_softmax.cu, one thread per group).
#pragma once
#include <cmath>
#include <cstdint>

#include "kernels/dispatch.h"

namespace mtinet::kernels {

// y[k] = exp(x[k] - max) / sum_j exp(x[j] - max): subtracting the max keeps every exponent <= 0, so nothing
// overflows and the largest term is exactly 1.
template <class T> MTINET_HD void softmax_group_fwd(const T* x, T* y, int64_t n) {
  T mx = x[0];
  for (int64_t k = 1; k < n; ++k) mx = x[k] > mx ? x[k] : mx;
  T sum = T(0);
  for (int64_t k = 0; k < n; ++k) {
    y[k] = exp(x[k] - mx);
    sum += y[k];
  }
  for (int64_t k = 0; k < n; ++k) y[k] /= sum;
}

// The softmax Jacobian applied to gy: gx = y * (gy - <gy, y>).
template <class T> MTINET_HD void softmax_group_bwd(const T* y, const T* gy, T* gx, int64_t n) {
  T dot = T(0);
  for (int64_t k = 0; k < n; ++k) dot += gy[k] * y[k];
  for (int64_t k = 0; k < n; ++k) gx[k] = y[k] * (gy[k] - dot);
}

}  // namespace mtinet::kernels
