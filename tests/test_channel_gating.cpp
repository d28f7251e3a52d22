// global_avg_pool, channel_scale, grouped_softmax: gradient checks in f64, PyTorch goldens (MTI-Net's FPM view +
// softmax for the grouped softmax), stability on large logits and error messages. CUDA against CPU:
// tests/test_cuda_parity_norm.cpp.
#include <cmath>
#include <string>

#include "core/ops.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::test;

TEST_CASE("global_avg_pool forward and gradient") {
  Rng rng(1);
  Tensor x = random_tensor({2, 3, 5, 4}, rng).set_requires_grad(true);
  std::vector<double> y = ops::global_avg_pool(x).to_double_vector(), xv = x.to_double_vector();
  REQUIRE(y.size() == 8);
  double s = 0;  // image 1, channel 2
  for (int64_t p = 0; p < 15; ++p) s += xv[size_t(60 + p * 4 + 2)];
  CHECK(y[6] == doctest::Approx(s / 15).epsilon(1e-14));
  gradcheck([](const std::vector<Tensor>& in) { return ops::global_avg_pool(in[0]); }, {x});
}

TEST_CASE("channel_scale gradient for both inputs") {
  Rng rng(2);
  Tensor x = random_tensor({2, 3, 2, 5}, rng).set_requires_grad(true);
  Tensor s = random_tensor({2, 5}, rng, 0, 1).set_requires_grad(true);
  gradcheck([](const std::vector<Tensor>& in) { return ops::channel_scale(in[0], in[1]); }, {x, s});
  // SE gating as the model uses it: the scale is computed from the same map.
  gradcheck([](const std::vector<Tensor>& in) {
    return ops::channel_scale(in[0], ops::sigmoid(ops::global_avg_pool(in[0])));
  }, {x});
  Tensor xc = x.detach();  // only the scale needs a gradient
  gradcheck([&](const std::vector<Tensor>& in) { return ops::channel_scale(xc, in[0]); }, {s});
}

TEST_CASE("grouped_softmax gradient, groups of 1, 3 and the whole row") {
  Rng rng(3);
  Tensor x = random_tensor({2, 3, 2, 6}, rng, -3, 3).set_requires_grad(true);
  for (int64_t g : {1, 3, 6}) {
    INFO("group " << g);
    gradcheck([g](const std::vector<Tensor>& in) { return ops::grouped_softmax(in[0], g); }, {x});
  }
  Tensor flat = random_tensor({4, 10}, rng, -3, 3).set_requires_grad(true);
  gradcheck([](const std::vector<Tensor>& in) { return ops::grouped_softmax(in[0], 5); }, {flat});
}

TEST_CASE("grouped_softmax groups adjacent channels and survives huge logits") {
  Tensor x = Tensor::from_vector<double>({1, 1, 1, 6}, {0.0, std::log(3.0), 1000.0, 1000.0, -1000.0, 5.0});
  std::vector<double> y = ops::grouped_softmax(x, 2).to_double_vector();
  CHECK(y[0] == doctest::Approx(0.25).epsilon(1e-15));
  CHECK(y[1] == doctest::Approx(0.75).epsilon(1e-15));
  CHECK(y[2] == 0.5);
  CHECK(y[3] == 0.5);
  CHECK(y[4] == 0.0);
  CHECK(y[5] == 1.0);
  std::vector<double> yf = ops::grouped_softmax(x.to(DType::F32), 2).to_double_vector();
  for (double v : yf) CHECK(std::isfinite(v));
}

namespace {
Tensor fixture_tensor(const SafetensorsContents& f, const std::string& key, DType dt) {
  Tensor t = f.at(key);
  if (t.ndim() == 4) t = nchw_to_nhwc(t);
  return t.to(dt).clone();
}

void expect(const SafetensorsContents& f, const Tensor& actual, const std::string& key, DType dt) {
  double atol = dt == DType::F64 ? 1e-12 : 1e-6, rtol = dt == DType::F64 ? 1e-10 : 1e-5;
  check_close(actual, fixture_tensor(f, key, DType::F64), atol, rtol, key + " (" + dtype_name(dt) + ")");
}
}  // namespace

TEST_CASE("global_avg_pool, channel_scale and grouped_softmax match PyTorch") {
  SafetensorsContents f = load_fixture("channel_gating.safetensors");
  const int64_t tasks = std::stoll(f.metadata.at("gsm.group"));
  REQUIRE(tasks == 3);
  for (DType dt : {DType::F64, DType::F32}) {
    Tensor x = fixture_tensor(f, "gap.x", dt).set_requires_grad(true);
    Tensor y = ops::global_avg_pool(x);
    y.backward(fixture_tensor(f, "gap.gy", dt));
    expect(f, y, "gap.y", dt);
    expect(f, x.grad(), "gap.gx", dt);

    Tensor xs = fixture_tensor(f, "scale.x", dt).set_requires_grad(true);
    Tensor s = fixture_tensor(f, "scale.s", dt).set_requires_grad(true);
    Tensor ys = ops::channel_scale(xs, s);
    ys.backward(fixture_tensor(f, "scale.gy", dt));
    expect(f, ys, "scale.y", dt);
    expect(f, xs.grad(), "scale.gx", dt);
    expect(f, s.grad(), "scale.gs", dt);

    // PyTorch viewed the task-major NCHW concat as (B, C, N, H, W) and softmaxed dim 2: groups of N adjacent
    // channels, which in NHWC is grouped_softmax(x, N).
    Tensor xg = fixture_tensor(f, "gsm.x", dt).set_requires_grad(true);
    Tensor yg = ops::grouped_softmax(xg, tasks);
    yg.backward(fixture_tensor(f, "gsm.gy", dt));
    expect(f, yg, "gsm.y", dt);
    expect(f, xg.grad(), "gsm.gx", dt);
  }
}

TEST_CASE("pool ops reject bad shapes with messages naming the tensor") {
  Tensor x = Tensor::zeros({2, 3, 3, 4}).set_name("shared");
  CHECK_THROWS_WITH_AS(ops::global_avg_pool(Tensor::zeros({2, 4}).set_name("vec")), doctest::Contains("'vec'"), Error);
  CHECK_THROWS_WITH_AS(ops::channel_scale(x, Tensor::zeros({2, 3}).set_name("gate")),
                       doctest::Contains("scale 'gate' f32 cpu [2, 3] must have shape [2, 4]"), Error);
  CHECK_THROWS_WITH_AS(ops::channel_scale(x, Tensor::zeros({2, 4}, DType::F64).set_name("gate64")),
                       doctest::Contains("'gate64' f64"), Error);
  CHECK_THROWS_WITH_AS(ops::grouped_softmax(x, 3), doctest::Contains("'shared' f32 cpu [2, 3, 3, 4]"), Error);
  CHECK_THROWS_WITH_AS(ops::grouped_softmax(x, 0), doctest::Contains("groups of 0"), Error);
}
