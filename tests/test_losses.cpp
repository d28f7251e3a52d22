// cross_entropy, masked_l1, normals_l1, balanced_bce: gradient checks in f64 (ignored/invalid pixels, the all-ignored
// case, BCE labels at exactly 0.5, logits of +-50), PyTorch goldens in f64 and f32, errors, and thread-count
// independence of the sums.
#include <omp.h>

#include <cmath>

#include "core/ops.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::test;

namespace {

Tensor ce_labels(const Shape& s, int64_t classes, double ignored_fraction, Rng& rng) {
  Tensor t = Tensor::empty(s, DType::I64);
  int64_t* p = t.data<int64_t>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = rng.uniform() < ignored_fraction ? 255 : rng.randint(classes);
  return t;
}

// Unit-vector labels with the given fraction of zero (invalid) pixels.
Tensor normal_labels(int64_t pixels, double invalid_fraction, Rng& rng) {
  Tensor t = Tensor::zeros({1, 1, pixels, 3}, DType::F64);
  double* p = t.data<double>();
  for (int64_t i = 0; i < pixels; ++i) {
    if (rng.uniform() < invalid_fraction) continue;
    double v[3] = {rng.normal(), rng.normal(), rng.normal()};
    double n = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    for (int c = 0; c < 3; ++c) p[3 * i + c] = v[c] / n;
  }
  return t;
}

double value(const Tensor& t) { return t.item(); }

bool all_zero(const Tensor& t) {
  for (double v : t.to_double_vector()) if (v != 0.0) return false;
  return true;
}

}  // namespace

// ---------------------------------------------------------------- cross entropy

TEST_CASE("cross_entropy: value and gradient with ignored pixels") {
  Rng rng(21);
  Tensor logits = random_tensor({2, 3, 4, 5}, rng, -3, 3).set_requires_grad(true);
  Tensor labels = ce_labels({2, 3, 4}, 5, 0.3, rng);
  // The mean of lse - x_y over the non-ignored pixels, by hand.
  std::vector<double> x = logits.to_double_vector();
  const int64_t* y = labels.data<int64_t>();
  double sum = 0;
  int n = 0;
  for (int64_t i = 0; i < labels.numel(); ++i) {
    if (y[i] == 255) continue;
    double lse = 0;
    for (int k = 0; k < 5; ++k) lse += std::exp(x[size_t(5 * i + k)]);
    sum += std::log(lse) - x[size_t(5 * i + y[i])];
    ++n;
  }
  REQUIRE(n > 0);
  REQUIRE(n < labels.numel());
  Tensor loss = ops::cross_entropy(logits, labels);
  CHECK(loss.shape().empty());
  CHECK(loss.dtype() == DType::F64);
  CHECK(value(loss) == doctest::Approx(sum / n).epsilon(1e-12));
  gradcheck([&](const std::vector<Tensor>& in) { return ops::cross_entropy(in[0], labels); }, {logits});
  // A non-default ignore index.
  Tensor labels3 = ce_labels({2, 3, 4}, 3, 0.0, rng);
  gradcheck([&](const std::vector<Tensor>& in) { return ops::cross_entropy(in[0], labels3, 2); }, {logits});
}

TEST_CASE("cross_entropy: every pixel ignored gives 0 and zero gradients") {
  Rng rng(22);
  Tensor logits = random_tensor({1, 2, 3, 4}, rng).set_requires_grad(true);
  Tensor labels = Tensor::full({1, 2, 3}, 255, DType::I64);
  Tensor loss = ops::cross_entropy(logits, labels);
  CHECK(value(loss) == 0.0);
  loss.backward();
  CHECK(all_zero(logits.grad()));
  gradcheck([&](const std::vector<Tensor>& in) { return ops::cross_entropy(in[0], labels); }, {logits});
}

TEST_CASE("cross_entropy: logits of +-50 and beyond stay finite") {
  for (DType dt : {DType::F64, DType::F32}) {
    Tensor logits = Tensor::from_vector<double>({1, 1, 2, 3}, {50, -50, 0, 1000, -1000, 0}).to(dt);
    logits.set_requires_grad(true);
    Tensor labels = Tensor::from_vector<int64_t>({1, 1, 2}, {1, 0});
    Tensor loss = ops::cross_entropy(logits, labels);
    // Pixel 0: lse ~= 50, loss 100. Pixel 1: loss ~= 0.
    CHECK(value(loss) == doctest::Approx(50.0).epsilon(1e-6));
    loss.backward();
    std::vector<double> g = logits.grad().to_double_vector();
    std::vector<double> expect = {0.5, -0.5, 0, 0, 0, 0};  // (softmax - onehot) / 2
    for (size_t i = 0; i < g.size(); ++i) CHECK(g[i] == doctest::Approx(expect[i]).epsilon(1e-6));
  }
  Rng rng(23);
  Tensor big = random_tensor({1, 2, 2, 4}, rng, -50, 50).set_requires_grad(true);
  Tensor labels = ce_labels({1, 2, 2}, 4, 0.0, rng);
  gradcheck([&](const std::vector<Tensor>& in) { return ops::cross_entropy(in[0], labels); }, {big});
}

TEST_CASE("cross_entropy: errors name the labels tensor") {
  Tensor logits = Tensor::zeros({1, 2, 2, 3}).set_name("logits");
  Tensor wrong_shape = Tensor::zeros({1, 2, 3}, DType::I64).set_name("seg_labels");
  CHECK_THROWS_WITH_AS(ops::cross_entropy(logits, wrong_shape), doctest::Contains("'seg_labels' i64 cpu [1, 2, 3]"),
                       Error);
  Tensor wrong_dtype = Tensor::zeros({1, 2, 2}, DType::F32).set_name("seg_labels");
  CHECK_THROWS_WITH_AS(ops::cross_entropy(logits, wrong_dtype), doctest::Contains("must be i64"), Error);
  Tensor bad = Tensor::from_vector<int64_t>({1, 2, 2}, {0, 255, 7, 1}).set_name("seg_labels");
  CHECK_THROWS_WITH_AS(ops::cross_entropy(logits, bad), doctest::Contains("label 7 at pixel 2 of 'seg_labels'"),
                       Error);
  Tensor negative = Tensor::from_vector<int64_t>({1, 2, 2}, {0, -1, 2, 1}).set_name("seg_labels");
  CHECK_THROWS_WITH_AS(ops::cross_entropy(logits, negative), doctest::Contains("label -1"), Error);
  // 255 is a bad class when another index is ignored.
  Tensor ignored = Tensor::from_vector<int64_t>({1, 2, 2}, {0, 255, 2, 1});
  CHECK_THROWS_WITH_AS(ops::cross_entropy(logits, ignored, -100), doctest::Contains("label 255"), Error);
}

// ---------------------------------------------------------------- masked L1

TEST_CASE("masked_l1: value and gradient with invalid elements") {
  Rng rng(31);
  Tensor pred = random_tensor({2, 3, 4, 1}, rng, 0, 3).set_requires_grad(true);
  Tensor label = random_tensor({2, 3, 4, 1}, rng, 0.5, 3);
  double* l = label.data<double>();
  const double* p = pred.data<double>();
  double sum = 0;
  int n = 0;
  for (int64_t i = 0; i < label.numel(); ++i) {
    if (rng.uniform() < 0.3) { l[i] = 0; continue; }
    if (std::abs(p[i] - l[i]) < 1e-3) l[i] += 0.01;  // away from the kink at pred == label
    sum += std::abs(p[i] - l[i]);
    ++n;
  }
  REQUIRE(n > 0);
  REQUIRE(n < label.numel());
  CHECK(value(ops::masked_l1(pred, label)) == doctest::Approx(sum / n).epsilon(1e-12));
  gradcheck([&](const std::vector<Tensor>& in) { return ops::masked_l1(in[0], label); }, {pred});
  // Another invalid value: -1 marks nothing here, so every element counts.
  gradcheck([&](const std::vector<Tensor>& in) { return ops::masked_l1(in[0], label, -1.0); }, {pred});
}

TEST_CASE("masked_l1: all invalid gives 0, pred == label gives a zero gradient") {
  Tensor pred = Tensor::from_vector<double>({1, 1, 3, 1}, {1, 2, 3}).set_requires_grad(true);
  Tensor none = Tensor::zeros({1, 1, 3, 1}, DType::F64);
  Tensor loss = ops::masked_l1(pred, none);
  CHECK(value(loss) == 0.0);
  loss.backward();
  CHECK(all_zero(pred.grad()));
  pred.impl().grad.reset();
  Tensor label = Tensor::from_vector<double>({1, 1, 3, 1}, {1, 2.5, 0});
  ops::masked_l1(pred, label).backward();
  CHECK(pred.grad().to_double_vector() == std::vector<double>{0, -0.5, 0});
}

TEST_CASE("masked_l1: errors name the tensors") {
  Tensor pred = Tensor::zeros({1, 2, 2, 1}).set_name("depth_pred");
  Tensor label = Tensor::zeros({1, 2, 1, 1}).set_name("depth_label");
  CHECK_THROWS_WITH_AS(ops::masked_l1(pred, label), doctest::Contains("'depth_label' f32 cpu [1, 2, 1, 1]"), Error);
  Tensor label64 = Tensor::zeros({1, 2, 2, 1}, DType::F64).set_name("depth_label");
  CHECK_THROWS_WITH_AS(ops::masked_l1(pred, label64), doctest::Contains("dtype mismatch"), Error);
}

// ---------------------------------------------------------------- normals

TEST_CASE("normals_l1: gradient through the normalisation, with invalid pixels") {
  Rng rng(41);
  Tensor label = normal_labels(10, 0.3, rng);
  Tensor pred = random_tensor({1, 1, 10, 3}, rng, -1, 1);
  // Keep |n_c - l_c| away from 0 so the finite differences never cross the L1 kink.
  const double* l = label.data<double>();
  double* p = pred.data<double>();
  for (int64_t i = 0; i < 10; ++i) {
    double norm = std::sqrt(p[3 * i] * p[3 * i] + p[3 * i + 1] * p[3 * i + 1] + p[3 * i + 2] * p[3 * i + 2]);
    for (int c = 0; c < 3; ++c) REQUIRE(std::abs(p[3 * i + c] / norm - l[3 * i + c]) > 1e-4);
  }
  pred.set_requires_grad(true);
  gradcheck([&](const std::vector<Tensor>& in) { return ops::normals_l1(in[0], label); }, {pred});
  // A pixel whose label is only partly zero is valid; the value is the masked mean over 3 * valid pixels.
  Tensor lab2 = Tensor::from_vector<double>({1, 1, 2, 3}, {0, 0, 1, 0, 0, 0});
  Tensor p2 = Tensor::from_vector<double>({1, 1, 2, 3}, {3, 0, 4, 5, 5, 5});
  CHECK(value(ops::normals_l1(p2, lab2)) == doctest::Approx((0.6 + 0 + 0.2) / 3).epsilon(1e-14));
}

TEST_CASE("normals_l1: below eps the divisor is the constant 1e-12") {
  // ||x|| ~ 3.7e-13 < 1e-12: n = x / 1e-12 = (0.1, -0.2, 0.3); the gradient is sign(n - l) / (3 * 1e-12).
  Tensor pred = Tensor::from_vector<double>({1, 1, 1, 3}, {1e-13, -2e-13, 3e-13}).set_requires_grad(true);
  Tensor label = Tensor::from_vector<double>({1, 1, 1, 3}, {0.0, 0.6, -0.8});
  Tensor loss = ops::normals_l1(pred, label);
  CHECK(value(loss) == doctest::Approx((0.1 + 0.8 + 1.1) / 3).epsilon(1e-12));
  loss.backward();
  std::vector<double> g = pred.grad().to_double_vector();
  double k = 1.0 / (3 * 1e-12);
  CHECK(g[0] == doctest::Approx(k).epsilon(1e-12));
  CHECK(g[1] == doctest::Approx(-k).epsilon(1e-12));
  CHECK(g[2] == doctest::Approx(k).epsilon(1e-12));
  // Finite differences at this scale: steps of 1e-17 keep the norm below eps.
  gradcheck([&](const std::vector<Tensor>& in) { return ops::normals_l1(in[0], label); }, {pred}, 1e-17, 1e-7, 1e-5);
  // An exactly-zero prediction: n = 0, gradient -sign(l) / (3 eps), no NaN from 0/0.
  Tensor zero = Tensor::zeros({1, 1, 1, 3}, DType::F64).set_requires_grad(true);
  ops::normals_l1(zero, label).backward();
  std::vector<double> gz = zero.grad().to_double_vector();
  CHECK(gz[0] == 0.0);
  CHECK(gz[1] == doctest::Approx(-k).epsilon(1e-12));
  CHECK(gz[2] == doctest::Approx(k).epsilon(1e-12));
}

TEST_CASE("normals_l1: all labels zero gives 0 and zero gradients") {
  Rng rng(42);
  Tensor pred = random_tensor({1, 2, 2, 3}, rng).set_requires_grad(true);
  Tensor label = Tensor::zeros({1, 2, 2, 3}, DType::F64);
  Tensor loss = ops::normals_l1(pred, label);
  CHECK(value(loss) == 0.0);
  loss.backward();
  CHECK(all_zero(pred.grad()));
}

TEST_CASE("normals_l1: errors name the tensors") {
  Tensor pred = Tensor::zeros({1, 2, 2, 3}).set_name("normals_pred");
  Tensor label = Tensor::zeros({1, 2, 3, 3}).set_name("normals_label");
  CHECK_THROWS_WITH_AS(ops::normals_l1(pred, label), doctest::Contains("'normals_label' f32 cpu [1, 2, 3, 3]"), Error);
  Tensor four = Tensor::zeros({1, 2, 2, 4}).set_name("normals_pred");
  CHECK_THROWS_WITH_AS(ops::normals_l1(four, four), doctest::Contains("'normals_pred' f32 cpu [1, 2, 2, 4]"), Error);
}

// ---------------------------------------------------------------- balanced BCE

TEST_CASE("balanced_bce: value and gradient, labels at exactly 0.5, logits of +-50") {
  Rng rng(51);
  Tensor logits = random_tensor({2, 3, 4, 1}, rng, -4, 4);
  Tensor labels = random_tensor({2, 3, 4, 1}, rng, 0, 1);
  double* x = logits.data<double>();
  double* y = labels.data<double>();
  y[0] = y[1] = y[2] = 0.5;
  y[3] = 0.4999;
  x[4] = 50;
  x[5] = -50;
  y[4] = 0;
  y[5] = 1;
  x[6] = 0;
  logits.set_requires_grad(true);
  // By hand: BCE terms softplus(-x) for positives, softplus(x) for negatives.
  auto softplus = [](double v) { return v > 0 ? v + std::log1p(std::exp(-v)) : std::log1p(std::exp(v)); };
  double pos = 0, neg = 0, negatives = 0;
  for (int64_t i = 0; i < logits.numel(); ++i) {
    if (y[i] >= 0.5) pos += softplus(-x[i]);
    else { neg += softplus(x[i]); negatives += 1; }
  }
  double n = double(logits.numel());
  double w = negatives / n;
  CHECK(value(ops::balanced_bce(logits, labels, 0.95)) == doctest::Approx((0.95 * pos + 0.05 * neg) / n).epsilon(1e-12));
  CHECK(value(ops::balanced_bce(logits, labels, std::nullopt)) ==
        doctest::Approx((w * pos + (1 - w) * neg) / n).epsilon(1e-12));
  gradcheck([&](const std::vector<Tensor>& in) { return ops::balanced_bce(in[0], labels, 0.95); }, {logits});
  gradcheck([&](const std::vector<Tensor>& in) { return ops::balanced_bce(in[0], labels, std::nullopt); }, {logits});
  // Exactly 0.5 is positive: raising that logit lowers the loss.
  logits.impl().grad.reset();
  ops::balanced_bce(logits, labels, 0.95).backward();
  CHECK(logits.grad().to_double_vector()[0] < 0);
}

TEST_CASE("balanced_bce: extreme logits in f32 stay finite and exact") {
  Tensor logits = Tensor::from_vector<float>({1, 1, 1, 4}, {100.f, -100.f, 100.f, -100.f}).set_requires_grad(true);
  Tensor labels = Tensor::from_vector<float>({1, 1, 1, 4}, {1.f, 0.f, 0.f, 1.f});
  Tensor loss = ops::balanced_bce(logits, labels, 0.5);
  // Two right (loss ~0) and two wrong by 100 each: (0.5*100 + 0.5*100) / 4.
  CHECK(value(loss) == doctest::Approx(25.0).epsilon(1e-6));
  loss.backward();
  std::vector<double> g = logits.grad().to_double_vector();
  std::vector<double> expect = {0.0, 0.0, 0.125, -0.125};  // w * (sigmoid(x) - y) / 4, with sigmoid(+-100) ~ 1, 0
  for (size_t i = 0; i < g.size(); ++i) CHECK(g[i] == doctest::Approx(expect[i]).epsilon(1e-6));
}

TEST_CASE("balanced_bce: errors name the tensors") {
  Tensor logits = Tensor::zeros({1, 2, 2, 1}).set_name("edge_logits");
  Tensor labels = Tensor::zeros({1, 2, 2, 2}).set_name("edge_labels");
  CHECK_THROWS_WITH_AS(ops::balanced_bce(logits, labels, 0.95), doctest::Contains("'edge_labels' f32 cpu [1, 2, 2, 2]"),
                       Error);
  Tensor empty = Tensor::zeros({0, 2, 2, 1}).set_name("edge_logits");
  CHECK_THROWS_WITH_AS(ops::balanced_bce(empty, empty, 0.95), doctest::Contains("'edge_logits'"), Error);
}

// ---------------------------------------------------------------- PyTorch goldens

namespace {
struct LossGoldens {
  SafetensorsContents f = load_fixture("losses.safetensors");
  // A fixture tensor in NHWC (4-d activations are stored NCHW) and the requested float dtype.
  Tensor act(const std::string& key, DType dt) const { return nchw_to_nhwc(f.at(key)).to(dt); }
  Tensor scalar(const std::string& key) const { return f.at(key); }
};

struct GoldenTolerance {
  double atol, rtol;
};
GoldenTolerance tolerance_for(DType dt) {
  return dt == DType::F64 ? GoldenTolerance{1e-10, 1e-9} : GoldenTolerance{1e-5, 1e-4};
}

// Runs loss(pred) with pred requiring grad, then checks the value and the gradient against the goldens.
void check_golden(const LossGoldens& g, DType dt, const std::string& pred_key, const std::string& loss_key,
                  const std::string& grad_key, const std::function<Tensor(const Tensor&)>& loss_fn) {
  GoldenTolerance tol = tolerance_for(dt);
  Tensor pred = g.act(pred_key, dt).set_requires_grad(true);
  Tensor loss = loss_fn(pred);
  CHECK(loss.dtype() == dt);
  check_close(loss, g.scalar(loss_key), tol.atol, tol.rtol, loss_key + " (" + dtype_name(dt) + ")");
  loss.backward();
  check_close(pred.grad(), g.act(grad_key, DType::F64), tol.atol, tol.rtol, grad_key + " (" + dtype_name(dt) + ")");
}
}  // namespace

TEST_CASE("losses match PyTorch in f64 and f32") {
  LossGoldens g;
  for (DType dt : {DType::F64, DType::F32}) {
    Tensor ce_labels = g.f.at("ce.labels");
    check_golden(g, dt, "ce.logits", "ce.loss", "ce.grad_logits",
                 [&](const Tensor& x) { return ops::cross_entropy(x, ce_labels, 255); });
    Tensor l1_label = g.act("l1.label", dt);
    check_golden(g, dt, "l1.pred", "l1.loss", "l1.grad_pred",
                 [&](const Tensor& x) { return ops::masked_l1(x, l1_label); });
    Tensor normals_label = g.act("normals.label", dt);
    check_golden(g, dt, "normals.pred", "normals.loss", "normals.grad_pred",
                 [&](const Tensor& x) { return ops::normals_l1(x, normals_label); });
    Tensor bce_label = g.act("bce.label", dt);
    check_golden(g, dt, "bce.logits", "bce.w095.loss", "bce.w095.grad_logits",
                 [&](const Tensor& x) { return ops::balanced_bce(x, bce_label, 0.95); });
    check_golden(g, dt, "bce.logits", "bce.batch.loss", "bce.batch.grad_logits",
                 [&](const Tensor& x) { return ops::balanced_bce(x, bce_label, std::nullopt); });
  }
}

// ---------------------------------------------------------------- determinism

TEST_CASE("loss sums are bitwise identical for any thread count") {
  Rng rng(61);
  const int64_t pixels = 3 * 2048 + 123;  // several fixed-size chunks plus a partial one
  Tensor logits = random_tensor({1, 1, pixels, 4}, rng, -3, 3, DType::F32);
  Tensor labels = ce_labels({1, 1, pixels}, 4, 0.2, rng);
  Tensor pred = random_tensor({1, 1, pixels, 3}, rng, -1, 1, DType::F32);
  Tensor normals = random_tensor({1, 1, pixels, 3}, rng, -1, 1, DType::F32);
  Tensor prob = random_tensor({1, 1, pixels, 3}, rng, 0, 1, DType::F32);
  auto losses = [&] {
    return std::vector<double>{value(ops::cross_entropy(logits, labels)), value(ops::masked_l1(pred, prob)),
                               value(ops::normals_l1(pred, normals)),
                               value(ops::balanced_bce(pred, prob, std::nullopt))};
  };
  int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  std::vector<double> one = losses();
  omp_set_num_threads(3);
  std::vector<double> three = losses();
  omp_set_num_threads(threads);
  CHECK(one == three);
}
