// conv2d and linear: f64 gradient checks over strides, paddings, dilations and kernel shapes, PyTorch goldens in
// f64 (tight) and f32 (loose), batching consistency across GEMM chunks, and shape errors that name the tensors.
#include <sstream>
#include <string>

#include "core/ops.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::test;

namespace {

struct ConvConfig {
  Shape x;  // NHWC
  Shape w;  // OHWI
  bool bias;
  ops::Conv2dOptions opt;
};

void gradcheck_conv(const ConvConfig& c, uint64_t seed) {
  Rng rng(seed);
  Tensor x = random_tensor(c.x, rng).set_requires_grad(true);
  Tensor w = random_tensor(c.w, rng, -0.5, 0.5).set_requires_grad(true);
  std::vector<Tensor> inputs{x, w};
  if (c.bias) inputs.push_back(random_tensor({c.w[0]}, rng).set_requires_grad(true));
  ops::Conv2dOptions opt = c.opt;
  gradcheck(
      [opt](const std::vector<Tensor>& in) {
        return ops::conv2d(in[0], in[1], in.size() > 2 ? in[2] : Tensor(), opt);
      },
      inputs);
}

Tensor grad_leaf(const Tensor& t, DType dt) { return t.to(dt).clone().set_requires_grad(true); }

// Runs one golden case of tests/fixtures/conv.safetensors (see tools/golden/conv.py) in dtype dt.
void check_conv_golden(const SafetensorsContents& f, const std::string& name, DType dt, double atol, double rtol) {
  INFO("case " << name << " in " << dtype_name(dt));
  auto get = [&](const char* key) { return f.at(name + "." + key); };
  ops::Conv2dOptions opt;
  char comma = 0;
  std::istringstream(f.metadata.at(name)) >> opt.stride >> comma >> opt.padding >> comma >> opt.dilation;
  const bool has_bias = f.contains(name + ".b");

  Tensor x = grad_leaf(nchw_to_nhwc(get("x")), dt);
  Tensor w = grad_leaf(oihw_to_ohwi(get("w")), dt);
  Tensor b = has_bias ? grad_leaf(get("b"), dt) : Tensor();
  Tensor y = ops::conv2d(x, w, b, opt);
  check_close(y, nchw_to_nhwc(get("y")), atol, rtol, "y");
  y.backward(nchw_to_nhwc(get("gy")).to(dt));
  check_close(x.grad(), nchw_to_nhwc(get("gx")), atol, rtol, "gx");
  check_close(w.grad(), oihw_to_ohwi(get("gw")), atol, rtol, "gw");
  if (has_bias) check_close(b.grad(), get("gb"), atol, rtol, "gb");
}

void check_linear_golden(const SafetensorsContents& f, DType dt, double atol, double rtol) {
  INFO("linear in " << dtype_name(dt));
  Tensor x = grad_leaf(f.at("linear.x"), dt);
  Tensor w = grad_leaf(f.at("linear.w"), dt);
  Tensor b = grad_leaf(f.at("linear.b"), dt);
  Tensor y = ops::linear(x, w, b);
  check_close(y, f.at("linear.y"), atol, rtol, "y");
  y.backward(f.at("linear.gy").to(dt));
  check_close(x.grad(), f.at("linear.gx"), atol, rtol, "gx");
  check_close(w.grad(), f.at("linear.gw"), atol, rtol, "gw");
  check_close(b.grad(), f.at("linear.gb"), atol, rtol, "gb");
}

const char* const kGoldenConvCases[] = {"k3s1p1", "k3s2p1", "k1", "k3d2", "k5x3s3", "k1s2"};

}  // namespace

TEST_CASE("conv2d gradient check over strides, paddings, dilations and kernel shapes") {
  SUBCASE("3x3, stride 1, padding 1, bias, batch 2") { gradcheck_conv({{2, 5, 4, 3}, {4, 3, 3, 3}, true, {1, 1, 1}}, 1); }
  SUBCASE("3x3, stride 2, padding 1, bias, odd sizes") { gradcheck_conv({{1, 7, 5, 2}, {3, 3, 3, 2}, true, {2, 1, 1}}, 2); }
  SUBCASE("3x3, stride 2, padding 1, no bias, batch 2") { gradcheck_conv({{2, 6, 5, 2}, {2, 3, 3, 2}, false, {2, 1, 1}}, 3); }
  SUBCASE("1x1 pointwise GEMM path, bias, batch 2") { gradcheck_conv({{2, 3, 4, 5}, {3, 1, 1, 5}, true, {1, 0, 1}}, 4); }
  SUBCASE("1x1 pointwise, no bias, batch 1") { gradcheck_conv({{1, 3, 3, 4}, {2, 1, 1, 4}, false, {1, 0, 1}}, 5); }
  SUBCASE("1x1, stride 2 (im2col path)") { gradcheck_conv({{2, 5, 3, 3}, {2, 1, 1, 3}, true, {2, 0, 1}}, 6); }
  SUBCASE("3x3, dilation 2, padding 2, no bias") { gradcheck_conv({{1, 7, 6, 2}, {2, 3, 3, 2}, false, {1, 2, 2}}, 7); }
  SUBCASE("3x3, dilation 2, stride 2, padding 1, bias, batch 2") {
    gradcheck_conv({{2, 7, 8, 2}, {3, 3, 3, 2}, true, {2, 1, 2}}, 8);
  }
  SUBCASE("2x3 kernel, stride 3, no padding, odd sizes") {
    gradcheck_conv({{2, 7, 5, 3}, {2, 2, 3, 3}, true, {3, 0, 1}}, 9);
  }
  SUBCASE("kernel larger than stride with big padding") {
    gradcheck_conv({{1, 3, 4, 2}, {2, 5, 5, 2}, true, {1, 3, 1}}, 10);
  }
}

TEST_CASE("linear gradient check, with and without bias") {
  Rng rng(11);
  Tensor x = random_tensor({3, 5}, rng).set_requires_grad(true);
  Tensor w = random_tensor({4, 5}, rng).set_requires_grad(true);
  Tensor b = random_tensor({4}, rng).set_requires_grad(true);
  gradcheck([](const std::vector<Tensor>& in) { return ops::linear(in[0], in[1], in[2]); }, {x, w, b});
  gradcheck([](const std::vector<Tensor>& in) { return ops::linear(in[0], in[1], Tensor()); }, {x, w});
}

TEST_CASE("conv2d and linear match PyTorch goldens (f64 tight, f32 loose)") {
  SafetensorsContents f = load_fixture("conv.safetensors");
  for (const char* name : kGoldenConvCases) {
    check_conv_golden(f, name, DType::F64, 1e-10, 1e-9);
    check_conv_golden(f, name, DType::F32, 1e-5, 1e-4);
  }
  check_linear_golden(f, DType::F64, 1e-10, 1e-9);
  check_linear_golden(f, DType::F32, 1e-5, 1e-4);
}

TEST_CASE("conv2d computes only the gradients that are needed") {
  Rng rng(12);
  Tensor x = random_tensor({2, 5, 5, 3}, rng);
  Tensor w = random_tensor({4, 3, 3, 3}, rng).set_requires_grad(true);
  Tensor gy = random_tensor({2, 5, 5, 4}, rng);
  ops::conv2d(x, w, Tensor(), {1, 1, 1}).backward(gy);
  CHECK_FALSE(x.grad().defined());
  Tensor gw_only = w.grad().clone();

  Tensor x2 = x.clone().set_requires_grad(true);
  Tensor w2 = w.detach().clone().set_requires_grad(true);
  ops::conv2d(x2, w2, Tensor(), {1, 1, 1}).backward(gy);
  CHECK_MESSAGE(gw_only.to_double_vector() == w2.grad().to_double_vector(),
                "the weight gradient does not depend on whether x needs one");
  CHECK(x2.grad().defined());
}

TEST_CASE("conv2d: a batch split over several GEMM chunks equals the images convolved one by one") {
  // 128x128x64 input, 3x3 kernel: one image's columns are ~9.4M elements, so a batch of two needs two chunks of the
  // 16M-element column budget and the weight gradient accumulates across them.
  Rng rng(13);
  Tensor x = random_tensor({2, 128, 128, 64}, rng, -1, 1, DType::F32).set_requires_grad(true);
  Tensor w = random_tensor({8, 3, 3, 64}, rng, -0.1, 0.1, DType::F32).set_requires_grad(true);
  Tensor b = random_tensor({8}, rng, -1, 1, DType::F32).set_requires_grad(true);
  Tensor gy = random_tensor({2, 128, 128, 8}, rng, -1, 1, DType::F32);
  Tensor y = ops::conv2d(x, w, b, {1, 1, 1});
  y.backward(gy);

  Tensor gw_sum = Tensor::zeros(w.shape(), DType::F32);
  for (int64_t i = 0; i < 2; ++i) {
    Tensor xi = x.detach().slice_batch(i, i + 1).clone().set_requires_grad(true);
    Tensor wi = w.detach().clone().set_requires_grad(true);
    Tensor yi = ops::conv2d(xi, wi, b.detach(), {1, 1, 1});
    yi.backward(gy.slice_batch(i, i + 1).clone());
    check_close(y.detach().slice_batch(i, i + 1).clone(), yi, 1e-6, 1e-6, "y of image " + std::to_string(i));
    check_close(x.grad().slice_batch(i, i + 1).clone(), xi.grad(), 1e-6, 1e-6, "gx of image " + std::to_string(i));
    gw_sum = ops::add(gw_sum, wi.grad());
  }
  check_close(w.grad(), gw_sum, 1e-3, 1e-4, "gw accumulated over chunks");
}

TEST_CASE("conv2d and linear handle an empty batch") {
  Tensor x = Tensor::zeros({0, 4, 4, 2}, DType::F64).set_requires_grad(true);
  Tensor w = Tensor::full({3, 3, 3, 2}, 1.0, DType::F64).set_requires_grad(true);
  Tensor b = Tensor::full({3}, 1.0, DType::F64).set_requires_grad(true);
  Tensor y = ops::conv2d(x, w, b, {1, 1, 1});
  CHECK(y.shape() == Shape{0, 4, 4, 3});
  y.backward(Tensor::zeros(y.shape(), DType::F64));
  for (double v : w.grad().to_double_vector()) CHECK(v == 0.0);
  for (double v : b.grad().to_double_vector()) CHECK(v == 0.0);

  Tensor lx = Tensor::zeros({0, 5}, DType::F64);
  Tensor lw = Tensor::full({2, 5}, 1.0, DType::F64).set_requires_grad(true);
  Tensor ly = ops::linear(lx, lw, Tensor());
  CHECK(ly.shape() == Shape{0, 2});
  ly.backward(Tensor::zeros(ly.shape(), DType::F64));
  for (double v : lw.grad().to_double_vector()) CHECK(v == 0.0);
}

TEST_CASE("conv2d rejects bad shapes with messages naming the tensors") {
  Tensor x = Tensor::zeros({1, 5, 5, 3}).set_name("x");
  Tensor w = Tensor::zeros({4, 3, 3, 2}).set_name("w");
  CHECK_THROWS_WITH_AS(ops::conv2d(x, w, Tensor()), doctest::Contains("input channels of x (3, 'x' f32 cpu"), Error);
  CHECK_THROWS_WITH_AS(ops::conv2d(x, w, Tensor()), doctest::Contains("weight's I (2, 'w' f32 cpu [4, 3, 3, 2])"),
                       Error);

  Tensor big = Tensor::zeros({4, 7, 7, 3}).set_name("big");
  CHECK_THROWS_WITH_AS(ops::conv2d(x, big, Tensor()), doctest::Contains("output size <= 0"), Error);
  CHECK_THROWS_WITH_AS(ops::conv2d(x, big, Tensor()), doctest::Contains("'big'"), Error);
  CHECK_NOTHROW(ops::conv2d(x, big, Tensor(), {1, 1, 1}));  // padding 1 leaves a 1x1 output

  Tensor w3 = Tensor::zeros({4, 3, 3, 3}).set_name("w3");
  Tensor bias = Tensor::zeros({5}).set_name("bias");
  CHECK_THROWS_WITH_AS(ops::conv2d(x, w3, bias), doctest::Contains("'bias' f32 cpu [5]"), Error);
  CHECK_THROWS_WITH_AS(ops::conv2d(x, w3, Tensor(), {0, 0, 1}), doctest::Contains("stride >= 1"), Error);
  Tensor nchw_weight = Tensor::zeros({4, 3, 3}).set_name("w_3d");
  CHECK_THROWS_WITH_AS(ops::conv2d(x, nchw_weight, Tensor()), doctest::Contains("OHWI"), Error);
  Tensor x64 = Tensor::zeros({1, 5, 5, 3}, DType::F64).set_name("x64");
  CHECK_THROWS_WITH_AS(ops::conv2d(x64, w3, Tensor()), doctest::Contains("'w3'"), Error);
}

TEST_CASE("linear rejects bad shapes with messages naming the tensors") {
  Tensor x = Tensor::zeros({2, 5}).set_name("feat");
  Tensor w = Tensor::zeros({3, 4}).set_name("fc_w");
  CHECK_THROWS_WITH_AS(ops::linear(x, w, Tensor()), doctest::Contains("input features of x (5, 'feat'"), Error);
  CHECK_THROWS_WITH_AS(ops::linear(x, w, Tensor()), doctest::Contains("'fc_w' f32 cpu [3, 4]"), Error);
  Tensor w5 = Tensor::zeros({3, 5});
  Tensor b = Tensor::zeros({2}).set_name("fc_b");
  CHECK_THROWS_WITH_AS(ops::linear(x, w5, b), doctest::Contains("'fc_b' f32 cpu [2]"), Error);
  CHECK_THROWS_WITH_AS(ops::linear(Tensor::zeros({2, 5, 1}).set_name("x3"), w5, Tensor()),
                       doctest::Contains("'x3'"), Error);
}
