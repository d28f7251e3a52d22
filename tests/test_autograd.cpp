// The autograd tape: shared subgraphs, accumulation across backward passes, retain_graph, no-grad, in-place checks.
#include "core/ops.h"
#include "core/parameter_set.h"
#include "kernels/elementwise/elementwise.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::test;

TEST_CASE("shared subgraph: gradient flows through both uses") {
  // y = sum(s * s + s) with s = sigmoid(x): dy/dx = (2s + 1) * s(1-s).
  Tensor x = Tensor::from_vector<double>({3}, {-1.0, 0.25, 2.0}).set_requires_grad(true);
  Tensor s = ops::sigmoid(x);
  Tensor y = ops::sum(ops::add(ops::mul(s, s), s));
  y.backward();
  std::vector<double> xv = x.to_double_vector(), g = x.grad().to_double_vector();
  for (size_t i = 0; i < 3; ++i) {
    double sv = 1.0 / (1.0 + std::exp(-xv[i]));
    CHECK(g[i] == doctest::Approx((2 * sv + 1) * sv * (1 - sv)).epsilon(1e-12));
  }
}

TEST_CASE("gradients accumulate across two backward passes") {
  Tensor x = Tensor::from_vector<double>({2}, {1.5, -0.5}).set_requires_grad(true);
  ops::sum(ops::scale(x, 3.0)).backward();
  ops::sum(ops::mul(x, x)).backward();
  std::vector<double> g = x.grad().to_double_vector();
  CHECK(g[0] == doctest::Approx(3.0 + 2 * 1.5));
  CHECK(g[1] == doctest::Approx(3.0 + 2 * -0.5));
}

TEST_CASE("gradients accumulate into a preallocated flat buffer") {
  Tensor flat_grad = Tensor::zeros({5}, DType::F64);
  Tensor flat_param = Tensor::from_vector<double>({5}, {1, 2, 3, 4, 5});
  Tensor a = Tensor::view_of(flat_param, 0, {2}).set_requires_grad(true);
  Tensor b = Tensor::view_of(flat_param, 2, {3}).set_requires_grad(true);
  a.set_grad(Tensor::view_of(flat_grad, 0, {2}));
  b.set_grad(Tensor::view_of(flat_grad, 2, {3}));
  ops::sum(ops::mul(a, a)).backward();
  ops::sum(ops::scale(b, 0.5)).backward();
  CHECK(flat_grad.to_double_vector() == std::vector<double>{2, 4, 0.5, 0.5, 0.5});
}

TEST_CASE("retain_graph allows a second backward, without it the second backward throws") {
  Tensor x = Tensor::from_vector<double>({2}, {0.3, -0.7}).set_requires_grad(true);
  Tensor y = ops::sum(ops::mul(ops::sigmoid(x), x));
  y.backward(/*retain_graph=*/true);
  std::vector<double> g1 = x.grad().to_double_vector();
  y.backward();
  std::vector<double> g2 = x.grad().to_double_vector();
  CHECK(g2[0] == doctest::Approx(2 * g1[0]));
  CHECK(g2[1] == doctest::Approx(2 * g1[1]));
  CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("retain_graph"), Error);
}

TEST_CASE("no-grad mode records nothing") {
  Tensor x = Tensor::from_vector<double>({2}, {1, 2}).set_requires_grad(true);
  Tensor y;
  {
    NoGradGuard ng;
    y = ops::mul(x, x);
  }
  CHECK_FALSE(y.requires_grad());
  CHECK(y.grad_fn() == nullptr);
  Tensor z = ops::mul(x, x);
  CHECK(z.requires_grad());
}

TEST_CASE("modifying a tensor saved for backward throws, naming the op") {
  Tensor x = Tensor::from_vector<double>({2}, {1, 2}).set_requires_grad(true);
  Tensor w = Tensor::from_vector<double>({2}, {3, 4});
  Tensor y = ops::sum(ops::mul(x, w));
  kernels::fill(w, 0.0);  // in-place write to a tensor mul saved
  CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("'mul'"), Error);
}

TEST_CASE("tensors that do not require grad get none") {
  Tensor x = Tensor::from_vector<double>({2}, {1, 2}).set_requires_grad(true);
  Tensor c = Tensor::from_vector<double>({2}, {5, 6});
  ops::sum(ops::mul(x, c)).backward();
  CHECK_FALSE(c.grad().defined());
  CHECK(x.grad().to_double_vector() == std::vector<double>{5, 6});
}

TEST_CASE("ParameterSet packs parameters into one buffer and gradients into another") {
  Tensor a = Tensor::from_vector<double>({2}, {1, 2});
  Tensor b = Tensor::from_vector<double>({1, 3}, {3, 4, 5});
  ParameterSet set({a, b});
  CHECK(set.numel() == 5);
  CHECK(set.flat_params().to_double_vector() == std::vector<double>{1, 2, 3, 4, 5});
  CHECK(a.requires_grad());
  // The original handles now view the flat buffer.
  kernels::fill(const_cast<Tensor&>(set.flat_params()), 2.0);
  CHECK(b.to_double_vector() == std::vector<double>{2, 2, 2});
  Tensor x = Tensor::from_vector<double>({1, 3}, {1, -1, 3});
  ops::sum(ops::mul(b, x)).backward();
  ops::sum(ops::mul(a, a)).backward();
  CHECK(set.flat_grads().to_double_vector() == std::vector<double>{4, 4, 1, -1, 3});
  set.zero_grad();
  CHECK(set.flat_grads().to_double_vector() == std::vector<double>(5, 0.0));
  CHECK_THROWS_AS(ParameterSet({a, Tensor::zeros({2}, DType::F32)}), Error);
}
