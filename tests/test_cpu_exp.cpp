// The vectorisable f32 exp (kernels/cpu_exp.h) against the double-precision exp over the whole float range, and the
// f32 cross-entropy rows built on it, in every ISA variant this CPU can run (kernels/cpu_isa.h), against the f64 path.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "core/ops.h"
#include "core/rng.h"
#include "kernels/cpu_exp.h"
#include "kernels/cpu_isa.h"
#include "kernels/losses/losses.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::kernels;

namespace {
// Distance in units in the last place between a float and the correctly rounded value of a double.
double ulp_error(float got, double want) {
  float rounded = float(want);
  if (rounded == 0.f || std::isinf(rounded)) return got == rounded ? 0.0 : 1e9;
  double ulp = std::nextafter(std::fabs(rounded), std::numeric_limits<float>::infinity()) - std::fabs(rounded);
  return std::fabs(double(got) - want) / ulp;
}
}  // namespace

TEST_CASE("exp_vectorisable is within 2 ulp of exp over the float range, 0 below it, Inf above it, NaN for NaN") {
  double worst = 0;
  float worst_x = 0;
  // Every 16th float from -87.3 to 88.7: 2^28 / 16 values per binade region, ~17 M in all.
  uint32_t lo_bits, hi_bits;
  float lo = -87.33f, hi = 88.72f;
  std::memcpy(&lo_bits, &lo, 4);
  std::memcpy(&hi_bits, &hi, 4);
  auto check = [&](float x) {
    double e = ulp_error(exp_vectorisable(x), std::exp(double(x)));
    if (e > worst) { worst = e; worst_x = x; }
  };
  for (uint32_t b = 0x80000000u; b <= lo_bits; b += 16) { float x; std::memcpy(&x, &b, 4); check(x); }  // negatives
  for (uint32_t b = 0; b <= hi_bits; b += 16) { float x; std::memcpy(&x, &b, 4); check(x); }           // positives
  INFO("worst at x = " << worst_x);
  CHECK(worst <= 2.0);
  CHECK(exp_vectorisable(0.f) == 1.f);
  CHECK(exp_vectorisable(-100.f) == 0.f);
  CHECK(exp_vectorisable(-std::numeric_limits<float>::infinity()) == 0.f);
  CHECK(std::isinf(exp_vectorisable(89.f)));
  CHECK(std::isinf(exp_vectorisable(std::numeric_limits<float>::infinity())));
  CHECK(std::isnan(exp_vectorisable(std::nanf(""))));
}

TEST_CASE("f32 cross-entropy matches the f64 path within f32 rounding in every ISA variant this CPU runs") {
  Rng rng(11);
  const int64_t pixels = 3000, classes = 40;
  Tensor logits64 = test::random_tensor({pixels, classes}, rng, -30, 30);
  std::vector<int64_t> y(pixels);
  for (int64_t i = 0; i < pixels; ++i) y[size_t(i)] = i % 17 == 0 ? 255 : (i * 7) % classes;
  Tensor labels = Tensor::from_vector<int64_t>({pixels}, y);
  Tensor logits32 = logits64.to(DType::F32);
  Tensor loss64 = Tensor::empty({}, DType::F64), n64 = Tensor::empty({}, DType::F64);
  cross_entropy_forward(logits64, labels, 255, loss64, n64);
  Tensor g64 = Tensor::empty(logits64.shape(), DType::F64);
  Tensor one64 = Tensor::full({}, 1.0, DType::F64);
  cross_entropy_backward(logits64, labels, 255, n64, one64, g64);

  CpuIsa before = cpu_isa();
  for (CpuIsa isa : {CpuIsa::Baseline, CpuIsa::Avx2, CpuIsa::Avx512}) {
    if (isa > best_supported_cpu_isa()) continue;
    set_cpu_isa(isa);
    CAPTURE(cpu_isa_name(isa));
    Tensor loss = Tensor::empty({}, DType::F32), n = Tensor::empty({}, DType::F64);
    cross_entropy_forward(logits32, labels, 255, loss, n);
    CHECK(n.item() == n64.item());
    // The f32 logits are rounded copies of the f64 ones: the loss (a mean of terms ~30) agrees to ~1e-6 relative.
    CHECK(std::fabs(loss.item() - loss64.item()) <= 1e-6 * std::fabs(loss64.item()) + 1e-6);
    Tensor g = Tensor::empty(logits32.shape(), DType::F32);
    cross_entropy_backward(logits32, labels, 255, n, Tensor::full({}, 1.0, DType::F32), g);
    // Gradients are (softmax - onehot) / n: an absolute bound relative to 1/n, a few f32 ulp of a softmax of ~1.
    test::check_close(g, g64, 4e-7 / n64.item(), 1e-5, "cross-entropy gradient");
  }
  set_cpu_isa(before);
}
