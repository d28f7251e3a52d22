// The closed-form weights and input of tools/golden/mtinet_model.py (formula_values / formula_tensor /
// formula_input): exact integer arithmetic, so both sides fill a model identically without committing weights.
#pragma once
#include <cmath>
#include <cstdint>
#include <string>

#include "core/tensor.h"

namespace mtinet::test {

// u in [0, 1): ((k * 2654435761 + salt * 40503 + 12345) mod 65536) / 65536.
inline double formula_value(uint64_t k, uint64_t salt) {
  return double((k * 2654435761ULL + salt * 40503ULL + 12345ULL) % 65536ULL) / 65536.0;
}

// State-dict entry `name` in PyTorch layout, F64 (I64 zeros for num_batches_tracked); salt = its state_dict index.
inline Tensor formula_entry(const std::string& name, const Shape& shape, uint64_t salt) {
  auto ends_with = [&](const std::string& suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with("num_batches_tracked")) return Tensor::zeros(shape, DType::I64);
  Tensor t = Tensor::empty(shape, DType::F64);
  double* p = t.data<double>();
  int64_t fan = 1;
  for (size_t i = 1; i < shape.size(); ++i) fan *= shape[i];
  const double root = std::sqrt(double(fan));
  for (int64_t k = 0; k < t.numel(); ++k) {
    double u = formula_value(uint64_t(k), salt);
    if (ends_with("running_var")) p[k] = 1.0 + 0.5 * u;
    else if (shape.size() >= 2) p[k] = (2.0 * u - 1.0) / root;
    else if (ends_with("weight")) p[k] = 1.0 + (2.0 * u - 1.0) / 16.0;
    else p[k] = (2.0 * u - 1.0) / 16.0;
  }
  return t;
}

// The input image, NCHW F64, values in [-2, 2).
inline Tensor formula_input(const Shape& nchw) {
  Tensor t = Tensor::empty(nchw, DType::F64);
  for (int64_t k = 0; k < t.numel(); ++k) t.data<double>()[k] = 4.0 * formula_value(uint64_t(k), 999983) - 2.0;
  return t;
}

}  // namespace mtinet::test
