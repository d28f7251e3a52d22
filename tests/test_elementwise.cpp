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

namespace {
// The fixture's NCHW tensor as NHWC in the requested dtype.
Tensor nhwc(const SafetensorsContents& f, const std::string& key, DType dt) {
  Tensor t = f.at(key);
  return (t.ndim() == 4 ? nchw_to_nhwc(t) : t).to(dt);
}

void check_against_pytorch(DType dt, double atol, double rtol) {
  INFO(dtype_name(dt));
  SafetensorsContents f = load_fixture("elementwise.safetensors");
  Tensor gy = nhwc(f, "gy", dt);
  auto unary = [&](const std::string& name, Tensor (*op)(const Tensor&)) {
    Tensor x = nhwc(f, "a", dt).set_requires_grad(true);
    Tensor y = op(x);
    y.backward(gy);
    check_close(y, nhwc(f, name + ".y", DType::F64), atol, rtol, name + " forward");
    check_close(x.grad(), nhwc(f, name + ".g0", DType::F64), atol, rtol, name + " gradient");
  };
  unary("relu", ops::relu);
  unary("sigmoid", ops::sigmoid);
  auto binary = [&](const std::string& name, Tensor (*op)(const Tensor&, const Tensor&)) {
    Tensor a = nhwc(f, "a", dt).set_requires_grad(true), b = nhwc(f, "b", dt).set_requires_grad(true);
    op(a, b).backward(gy);
    check_close(op(a, b), nhwc(f, name + ".y", DType::F64), atol, rtol, name + " forward");
    check_close(a.grad(), nhwc(f, name + ".g0", DType::F64), atol, rtol, name + " gradient a");
    check_close(b.grad(), nhwc(f, name + ".g1", DType::F64), atol, rtol, name + " gradient b");
  };
  binary("add", ops::add);
  binary("mul", ops::mul);
  for (const std::string name : {"sum", "mean"}) {
    Tensor x = nhwc(f, "a", dt).set_requires_grad(true);
    Tensor y = name == "sum" ? ops::sum(x) : ops::mean(x);
    y.backward(Tensor::full({}, 0.75, dt));
    check_close(y, f.at(name + ".y"), atol, rtol, name + " forward");
    check_close(x.grad(), nhwc(f, name + ".g0", DType::F64), atol, rtol, name + " gradient");
  }
  CHECK(ops::argmax_channels(nhwc(f, "a", dt)).to_double_vector() == f.at("argmax").to_double_vector());
}
}  // namespace

TEST_CASE("element-wise ops and reductions match PyTorch in f64 and f32") {
  check_against_pytorch(DType::F64, 1e-12, 1e-12);
  check_against_pytorch(DType::F32, 1e-5, 1e-5);
}
