// relu, sigmoid, add, mul, scale, reshape: gradient checks in f64 and PyTorch goldens.
#include "core/ops.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::test;

namespace {
// Values in [-2,2] but never within 0.05 of zero, so finite differences never straddle relu's kink.
Tensor away_from_zero(const Shape& s, Rng& rng) {
  Tensor t = random_tensor(s, rng, 0.05, 2.0);
  double* p = t.data<double>();
  for (int64_t i = 0; i < t.numel(); ++i) if (rng.uniform() < 0.5) p[i] = -p[i];
  return t;
}
}  // namespace

TEST_CASE("relu forward and gradient") {
  Rng rng(1);
  Tensor x = away_from_zero({2, 3, 4, 5}, rng).set_requires_grad(true);
  Tensor y = ops::relu(x);
  std::vector<double> xv = x.to_double_vector(), yv = y.to_double_vector();
  for (size_t i = 0; i < xv.size(); ++i) CHECK(yv[i] == (xv[i] > 0 ? xv[i] : 0.0));
  gradcheck([](const std::vector<Tensor>& in) { return ops::relu(in[0]); }, {x});
}

TEST_CASE("sigmoid gradient, including large magnitudes") {
  Rng rng(2);
  Tensor x = random_tensor({3, 7}, rng, -8, 8).set_requires_grad(true);
  gradcheck([](const std::vector<Tensor>& in) { return ops::sigmoid(in[0]); }, {x});
  Tensor big = Tensor::from_vector<double>({3}, {-800.0, 0.0, 800.0});
  std::vector<double> s = ops::sigmoid(big).to_double_vector();
  CHECK(s[0] == 0.0);
  CHECK(s[1] == 0.5);
  CHECK(s[2] == 1.0);
}

TEST_CASE("add, mul, scale, reshape gradients") {
  Rng rng(3);
  Tensor a = random_tensor({2, 3, 3, 4}, rng).set_requires_grad(true);
  Tensor b = random_tensor({2, 3, 3, 4}, rng).set_requires_grad(true);
  gradcheck([](const std::vector<Tensor>& in) { return ops::add(in[0], in[1]); }, {a, b});
  gradcheck([](const std::vector<Tensor>& in) { return ops::mul(in[0], in[1]); }, {a, b});
  gradcheck([](const std::vector<Tensor>& in) { return ops::scale(in[0], -2.5); }, {a});
  gradcheck([](const std::vector<Tensor>& in) { return ops::mul(ops::reshape(in[0], {6, 12}), ops::reshape(in[1], {6, 12})); },
            {a, b});
}

TEST_CASE("binary ops reject mismatched shapes with a message naming both tensors") {
  Tensor a = Tensor::zeros({2, 3}).set_name("a");
  Tensor b = Tensor::zeros({3, 2}).set_name("b");
  CHECK_THROWS_WITH_AS(ops::add(a, b), doctest::Contains("'a' f32 cpu [2, 3]"), Error);
}
