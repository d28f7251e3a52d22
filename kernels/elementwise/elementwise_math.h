// Per-element math shared by the CPU loops (kernels/elementwise/elementwise_cpu.cpp) and the CUDA kernels
// (kernels/elementwise/elementwise.cu), so the CPU tests cover the device code's formulas.
#pragma once
#include <cmath>

#include "kernels/dispatch.h"

namespace mtinet::kernels {

template <class T> MTINET_HD T relu_fwd(T x) { return x > T(0) ? x : T(0); }
// The subgradient at 0 is 0, as in PyTorch. Takes the input or the output (same sign pattern).
template <class T> MTINET_HD T relu_bwd(T x, T g) { return x > T(0) ? g : T(0); }

// Stable for large |x|: never exponentiates a positive number.
template <class T> MTINET_HD T sigmoid_fwd(T x) {
  if (x >= T(0)) return T(1) / (T(1) + exp(-x));
  T e = exp(x);
  return e / (T(1) + e);
}
// Backward from the saved output y = sigmoid(x).
template <class T> MTINET_HD T sigmoid_bwd(T y, T g) { return g * y * (T(1) - y); }

}  // namespace mtinet::kernels
