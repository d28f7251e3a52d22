// Shared test helpers: random inputs, closeness checks, the finite-difference gradient check and fixture loading.
#pragma once
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/error.h"
#include "core/layout.h"
#include "core/rng.h"
#include "core/safetensors.h"
#include "core/tensor.h"

namespace mtinet::test {

inline Tensor random_tensor(const Shape& shape, Rng& rng, double lo = -1.0, double hi = 1.0,
                            DType dtype = DType::F64) {
  Tensor t = Tensor::empty(shape, dtype);
  fill_uniform(t, rng, lo, hi);
  return t;
}

// The largest violation of |a - e| <= atol + rtol*|e| over the elements, as a ratio (<= 1 passes), and where.
struct Violation {
  double worst = 0;
  size_t index = 0;
};
inline Violation close_violation(const std::vector<double>& a, const std::vector<double>& e, double atol,
                                 double rtol) {
  Violation v;
  for (size_t i = 0; i < a.size(); ++i) {
    double ratio = std::abs(a[i] - e[i]) / (atol + rtol * std::abs(e[i]));
    if (!(ratio <= v.worst)) { v.worst = ratio; v.index = i; }  // NaN counts as worst
  }
  return v;
}

// Checks |a - e| <= atol + rtol*|e| elementwise; reports the worst element.
inline void check_close(const Tensor& actual, const Tensor& expected, double atol, double rtol,
                        const std::string& what) {
  INFO(what);
  REQUIRE(actual.shape() == expected.shape());
  std::vector<double> a = actual.to_double_vector(), e = expected.to_double_vector();
  const Violation v = close_violation(a, e, atol, rtol);
  const double worst = v.worst;
  const size_t worst_i = v.index;
  INFO("worst element " << worst_i << ": got " << (a.empty() ? 0 : a[worst_i]) << ", expected "
                        << (e.empty() ? 0 : e[worst_i]) << " (ratio to tolerance " << worst << ")");
  CHECK(worst <= 1.0);
}

// Relative L2 error ||a - e|| / ||e||.
inline double rel_l2(const Tensor& actual, const Tensor& expected) {
  std::vector<double> a = actual.to_double_vector(), e = expected.to_double_vector();
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) { num += (a[i] - e[i]) * (a[i] - e[i]); den += e[i] * e[i]; }
  return std::sqrt(num / (den > 0 ? den : 1.0));
}

using TensorFn = std::function<Tensor(const std::vector<Tensor>&)>;

// Central-difference gradient check in f64 of every floating input that requires grad. The output is contracted
// with fixed random weights so every output element contributes. Inputs must be away from kinks (e.g. relu at 0).
inline void gradcheck(const TensorFn& f, const std::vector<Tensor>& inputs, double eps = 1e-6, double atol = 1e-7,
                      double rtol = 1e-5) {
  for (const Tensor& t : inputs) {
    if (t.requires_grad()) { REQUIRE(t.dtype() == DType::F64); t.impl().grad.reset(); }
  }
  Tensor y = f(inputs);
  Rng rng(1234);
  Tensor w = random_tensor(y.shape(), rng, 0.5, 1.5);
  y.backward(w);
  auto objective = [&]() {
    NoGradGuard ng;
    Tensor yy = f(inputs);
    std::vector<double> v = yy.to_double_vector(), wv = w.to_double_vector();
    double s = 0;
    for (size_t i = 0; i < v.size(); ++i) s += v[i] * wv[i];
    return s;
  };
  for (size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& x = inputs[k];
    if (!x.requires_grad()) continue;
    REQUIRE_MESSAGE(x.grad().defined(), "input " << k << " got no gradient");
    Tensor numeric = Tensor::empty(x.shape(), DType::F64);
    double* p = x.data<double>();
    for (int64_t i = 0; i < x.numel(); ++i) {
      double orig = p[i];
      p[i] = orig + eps;
      double up = objective();
      p[i] = orig - eps;
      double down = objective();
      p[i] = orig;
      numeric.data<double>()[i] = (up - down) / (2 * eps);
    }
    check_close(x.grad(), numeric, atol, rtol, "gradient of input " + std::to_string(k));
  }
}

// The message of the mtinet::Error that f throws, "" when it throws none: for checks on several parts of a message.
template <class F>
std::string error_message(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

inline std::string fixture_path(const std::string& name) { return std::string(MTINET_FIXTURE_DIR) + "/" + name; }
inline SafetensorsContents load_fixture(const std::string& name) { return load_safetensors(fixture_path(name)); }

}  // namespace mtinet::test
