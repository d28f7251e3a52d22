// autograd grad(): gradients of an output w.r.t. chosen tensors, without touching any leaf's .grad and without
// running the parts of the graph that lead elsewhere.
#include "core/ops.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::test;

namespace {

// y = x, recorded with a backward that counts its calls: shows which nodes a backward pass ran.
Tensor counted_identity(const Tensor& x, int* calls) {
  return record(x.clone(), "counted_identity", {x}, {}, [calls](const Tensor& g, const std::vector<Tensor>&) {
    ++*calls;
    return std::vector<Tensor>{g};
  });
}

}  // namespace

TEST_CASE("grad returns the gradient of a leaf and leaves every .grad alone") {
  // L = sum(w * w * x): dL/dw = 2 w x, dL/dx = w^2.
  Tensor w = Tensor::from_vector<double>({3}, {1.0, -2.0, 0.5}).set_requires_grad(true);
  Tensor x = Tensor::from_vector<double>({3}, {3.0, 4.0, -1.0}).set_requires_grad(true);
  x.set_grad(Tensor::from_vector<double>({3}, {7.0, 7.0, 7.0}));
  Tensor loss = ops::sum(ops::mul(ops::mul(w, w), x));
  std::vector<Tensor> g = grad(loss, {w, x}, false);
  REQUIRE(g.size() == 2);
  CHECK(g[0].to_double_vector() == std::vector<double>{6.0, -16.0, -1.0});
  CHECK(g[1].to_double_vector() == std::vector<double>{1.0, 4.0, 0.25});
  CHECK_FALSE(w.grad().defined());
  CHECK(x.grad().to_double_vector() == std::vector<double>{7.0, 7.0, 7.0});
}

TEST_CASE("grad with respect to an intermediate tensor") {
  // h = 3 x, L = sum(h * h): dL/dh = 2 h = 6 x.
  Tensor x = Tensor::from_vector<double>({2}, {0.5, -1.0}).set_requires_grad(true);
  Tensor h = ops::scale(x, 3.0);
  Tensor loss = ops::sum(ops::mul(h, h));
  std::vector<Tensor> g = grad(loss, {h, x}, false);
  CHECK(g[0].to_double_vector() == std::vector<double>{3.0, -6.0});
  CHECK(g[1].to_double_vector() == std::vector<double>{9.0, -18.0});
  CHECK_FALSE(x.grad().defined());
}

TEST_CASE("grad of the output itself is one, and a tensor asked for twice gets its gradient twice") {
  Tensor x = Tensor::from_vector<double>({2}, {2.0, 5.0}).set_requires_grad(true);
  Tensor loss = ops::sum(ops::mul(x, x));
  std::vector<Tensor> g = grad(loss, {loss, x, x}, false);
  CHECK(g[0].item() == 1.0);
  CHECK(g[1].to_double_vector() == std::vector<double>{4.0, 10.0});
  CHECK(g[2].to_double_vector() == std::vector<double>{4.0, 10.0});
  CHECK_FALSE(g[1].same(g[2]));  // each is the caller's own copy
}

TEST_CASE("grad runs only the nodes between the output and the requested tensors") {
  // backbone: x -> counted -> scale(2) = features; the shared layer: h = features * W; two heads read h.
  int backbone_calls = 0;
  Tensor x = Tensor::from_vector<double>({2}, {1.0, 2.0}).set_requires_grad(true);
  Tensor W = Tensor::from_vector<double>({2}, {0.5, -0.25}).set_requires_grad(true);
  Tensor features = ops::scale(counted_identity(x, &backbone_calls), 2.0);
  Tensor h = ops::mul(features, W);
  Tensor loss1 = ops::sum(ops::scale(h, 3.0));  // dL1/dW = 3 * features = {6, 12}
  Tensor loss2 = ops::sum(ops::mul(h, h));      // h = {1, -1}: dL2/dW = 2 h * features = {4, -8}
  std::vector<Tensor> g1 = grad(loss1, {W}, true);
  std::vector<Tensor> g2 = grad(loss2, {W}, true);
  CHECK(g1[0].to_double_vector() == std::vector<double>{6.0, 12.0});
  CHECK(g2[0].to_double_vector() == std::vector<double>{4.0, -8.0});
  CHECK(backbone_calls == 0);
  CHECK_FALSE(W.grad().defined());
  CHECK_FALSE(x.grad().defined());
  // The retained graph still serves the ordinary backward of the total, which does run the backbone.
  ops::add(loss1, loss2).backward();
  CHECK(backbone_calls == 1);
  CHECK(W.grad().to_double_vector() == std::vector<double>{10.0, 4.0});
  // d/dx = 2 * (3 + 2 h) * W = 2 * {5 * 0.5, 1 * -0.25} = {5, -0.5}
  CHECK(x.grad().to_double_vector() == std::vector<double>{5.0, -0.5});
}

TEST_CASE("grad agrees with backward on a graph with shared subexpressions") {
  Rng rng(7);
  Tensor a = random_tensor({4}, rng).set_requires_grad(true);
  Tensor b = random_tensor({4}, rng).set_requires_grad(true);
  auto f = [&]() {
    Tensor s = ops::sigmoid(ops::mul(a, b));
    return ops::sum(ops::add(ops::mul(s, s), ops::mul(s, a)));
  };
  std::vector<Tensor> g = grad(f(), {a, b}, false);
  f().backward();
  check_close(g[0], a.grad(), 1e-15, 1e-13, "d/da");
  check_close(g[1], b.grad(), 1e-15, 1e-13, "d/db");
}

TEST_CASE("grad without retain_graph frees what it ran") {
  Tensor x = Tensor::from_vector<double>({2}, {0.3, -0.7}).set_requires_grad(true);
  Tensor loss = ops::sum(ops::mul(ops::sigmoid(x), x));
  grad(loss, {x}, false);
  CHECK_THROWS_WITH_AS(grad(loss, {x}, false), doctest::Contains("retain_graph"), Error);
}

TEST_CASE("grad rejects inputs it cannot differentiate, naming them") {
  Tensor x = Tensor::from_vector<double>({2}, {1.0, 2.0}).set_requires_grad(true);
  x.set_name("x");
  Tensor unused = Tensor::from_vector<double>({2}, {1.0, 2.0}).set_requires_grad(true);
  unused.set_name("unused");
  Tensor constant = Tensor::from_vector<double>({2}, {1.0, 2.0});
  constant.set_name("constant");
  Tensor loss = ops::sum(ops::mul(x, x));
  CHECK_THROWS_WITH_AS(grad(loss, {x, unused}, true), doctest::Contains("'unused'"), Error);
  CHECK_THROWS_WITH_AS(grad(loss, {constant}, true), doctest::Contains("'constant'"), Error);
  CHECK_THROWS_WITH_AS(grad(ops::mul(x, x), {x}, true), doctest::Contains("one element"), Error);
}

TEST_CASE("a grad call that fails for an unreachable input leaves the graph usable") {
  Tensor x = Tensor::from_vector<double>({2}, {1.0, 2.0}).set_requires_grad(true);
  Tensor unused = Tensor::from_vector<double>({2}, {1.0, 2.0}).set_requires_grad(true);
  Tensor loss = ops::sum(ops::mul(x, x));
  CHECK_THROWS_AS(grad(loss, {unused}, false), Error);
  CHECK(grad(loss, {x}, false)[0].to_double_vector() == std::vector<double>{2.0, 4.0});
}

TEST_CASE("an input reached only along paths without gradient gets zeros") {
  // y = x, but its backward passes no gradient (like a non-differentiable op would).
  Tensor x = Tensor::from_vector<double>({2}, {1.0, 2.0}).set_requires_grad(true);
  Tensor stopped = record(x.clone(), "stop_gradient", {x}, {},
                          [](const Tensor&, const std::vector<Tensor>&) { return std::vector<Tensor>{Tensor()}; });
  std::vector<Tensor> g = grad(ops::sum(stopped), {x}, false);
  CHECK(g[0].shape() == Shape{2});
  CHECK(g[0].to_double_vector() == std::vector<double>{0.0, 0.0});
}
