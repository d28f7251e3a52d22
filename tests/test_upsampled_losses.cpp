// The upsampled losses (ops::upsampled_cross_entropy, _masked_l1, _normals_l1, _balanced_bce) against the
// composition they replace, loss(resize_bilinear(pred, H, W), label): values and gradients in f64 to rounding, the
// CPU's bits in f32 and f64, finite-difference gradients, a hand-written reference whose planted weight error the
// tolerances catch, f32 against f64 within a bound derived from the sizes, thread-count independence, the
// nothing-valid case and the errors.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "core/ops.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::test;

namespace {

using LossFn = std::function<Tensor(const Tensor& pred, const Tensor& label)>;

Tensor upsample_to(const Tensor& pred, const Tensor& label) {
  return ops::resize_bilinear(pred, label.dim(1), label.dim(2));
}

// One loss kind: its fused op, the unfused composition, and how to draw a label for it.
struct LossPair {
  std::string name;
  int64_t channels;
  LossFn fused, plain;
  std::function<Tensor(const Shape& label_shape, DType dt, Rng& rng)> label;
};

Tensor with_invalid(Tensor t, int64_t channels, double fraction, Rng& rng) {
  double* p = t.data<double>();
  for (int64_t i = 0; i < t.numel() / channels; ++i)
    if (rng.uniform() < fraction)
      for (int64_t k = 0; k < channels; ++k) p[i * channels + k] = 0.0;
  return t;
}

std::vector<LossPair> loss_pairs() {
  std::vector<LossPair> pairs;
  pairs.push_back({"cross_entropy", 5,
                   [](const Tensor& p, const Tensor& l) { return ops::upsampled_cross_entropy(p, l, 255); },
                   [](const Tensor& p, const Tensor& l) { return ops::cross_entropy(upsample_to(p, l), l, 255); },
                   [](const Shape& s, DType, Rng& rng) {
                     Tensor t = Tensor::empty({s[0], s[1], s[2]}, DType::I64);
                     for (int64_t i = 0; i < t.numel(); ++i)
                       t.data<int64_t>()[i] = rng.uniform() < 0.3 ? 255 : rng.randint(s[3]);
                     return t;
                   }});
  // Labels in [3.5, 4.5] (or 0: invalid) stay away from the predictions in [-3, 3]: no pixel sits near L1's kink,
  // so finite differences hold.
  pairs.push_back({"masked_l1", 2,
                   [](const Tensor& p, const Tensor& l) { return ops::upsampled_masked_l1(p, l, 0.0); },
                   [](const Tensor& p, const Tensor& l) { return ops::masked_l1(upsample_to(p, l), l, 0.0); },
                   [](const Shape& s, DType dt, Rng& rng) {
                     return with_invalid(random_tensor(s, rng, 3.5, 4.5), 1, 0.3, rng).to(dt);
                   }});
  pairs.push_back({"normals_l1", 3,
                   [](const Tensor& p, const Tensor& l) { return ops::upsampled_normals_l1(p, l); },
                   [](const Tensor& p, const Tensor& l) { return ops::normals_l1(upsample_to(p, l), l); },
                   [](const Shape& s, DType dt, Rng& rng) {
                     Tensor t = random_tensor(s, rng, -1, 1);
                     double* p = t.data<double>();
                     for (int64_t i = 0; i < t.numel() / 3; ++i) {
                       double n = std::sqrt(p[3 * i] * p[3 * i] + p[3 * i + 1] * p[3 * i + 1] + p[3 * i + 2] * p[3 * i + 2]);
                       for (int k = 0; k < 3; ++k) p[3 * i + k] /= n;
                     }
                     return with_invalid(t, 3, 0.3, rng).to(dt);
                   }});
  auto bce_label = [](const Shape& s, DType dt, Rng& rng) { return random_tensor(s, rng, 0, 1).to(dt); };
  pairs.push_back({"balanced_bce w=0.95", 2,
                   [](const Tensor& p, const Tensor& l) { return ops::upsampled_balanced_bce(p, l, 0.95); },
                   [](const Tensor& p, const Tensor& l) { return ops::balanced_bce(upsample_to(p, l), l, 0.95); },
                   bce_label});
  pairs.push_back({"balanced_bce batch weight", 1,
                   [](const Tensor& p, const Tensor& l) { return ops::upsampled_balanced_bce(p, l, std::nullopt); },
                   [](const Tensor& p, const Tensor& l) {
                     return ops::balanced_bce(upsample_to(p, l), l, std::nullopt);
                   },
                   bce_label});
  return pairs;
}

// Low-resolution {n, h, w} -> label H x W: odd, non-integer upsampling factors (the deep-supervision case), an
// integer factor, a single source pixel, and downsampling.
struct Sizes {
  int64_t n, h, w, oh, ow;
};
const Sizes kSizes[] = {{2, 7, 9, 30, 41}, {1, 4, 5, 16, 20}, {1, 1, 1, 3, 5}, {2, 9, 7, 5, 4}};

struct Run {
  Tensor loss, grad;
};

// loss_fn on a fresh copy of pred, with its gradient for the upstream gradient 1.
Run run(const LossFn& loss_fn, const Tensor& pred, const Tensor& label) {
  Tensor x = pred.clone().set_requires_grad(true);
  Tensor loss = loss_fn(x, label);
  loss.backward();
  return {loss, x.grad()};
}

double max_abs(const Tensor& t) {
  double m = 0;
  for (double v : t.to_double_vector()) m = std::max(m, std::abs(v));
  return m;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw_data(), b.raw_data(), size_t(a.numel()) * dtype_size(a.dtype())) == 0;
}

}  // namespace

TEST_CASE("upsampled losses equal the loss of resize_bilinear in f64, values and gradients") {
  Rng rng(91);
  for (const LossPair& lp : loss_pairs()) {
    for (const Sizes& z : kSizes) {
      CAPTURE(lp.name);
      CAPTURE(z.h);
      CAPTURE(z.oh);
      Tensor pred = random_tensor({z.n, z.h, z.w, lp.channels}, rng, -3, 3);
      Tensor label = lp.label({z.n, z.oh, z.ow, lp.channels}, DType::F64, rng);
      Run fused = run(lp.fused, pred, label), plain = run(lp.plain, pred, label);
      REQUIRE(fused.loss.shape().empty());
      CHECK(fused.loss.dtype() == DType::F64);
      CHECK(std::abs(plain.loss.item()) > 0);  // a real comparison
      // The same arithmetic in another order would differ by a few ulp; 1e-12 leaves room for that and nothing else.
      check_close(fused.loss, plain.loss, 0, 1e-12, lp.name + " loss");
      check_close(fused.grad, plain.grad, 1e-12 * max_abs(plain.grad), 1e-12, lp.name + " gradient");
    }
  }
}

TEST_CASE("upsampled losses give the composition's bits on the CPU, f32 and f64") {
  // The forward sums the same items in the same fixed chunks and the backward adds each element's contributions in
  // resize_bilinear's gather order, so training numbers do not move when deep supervision is fused.
  Rng rng(92);
  for (DType dt : {DType::F32, DType::F64}) {
    for (const LossPair& lp : loss_pairs()) {
      CAPTURE(lp.name);
      CAPTURE(dtype_name(dt));
      Tensor pred = random_tensor({2, 7, 9, lp.channels}, rng, -3, 3, dt);
      Tensor label = lp.label({2, 30, 41, lp.channels}, dt, rng);
      Run fused = run(lp.fused, pred, label), plain = run(lp.plain, pred, label);
      CHECK(same_bits(fused.loss, plain.loss));
      CHECK(same_bits(fused.grad, plain.grad));
    }
  }
}

TEST_CASE("upsampled losses: finite-difference gradients in f64") {
  Rng rng(93);
  for (const LossPair& lp : loss_pairs()) {
    CAPTURE(lp.name);
    Tensor pred = random_tensor({2, 3, 4, lp.channels}, rng, -3, 3).set_requires_grad(true);
    Tensor label = lp.label({2, 7, 9, lp.channels}, DType::F64, rng);
    gradcheck([&](const std::vector<Tensor>& in) { return lp.fused(in[0], label); }, {pred});
  }
}

namespace {
// A hand-written masked L1 of the upsampled prediction, from PyTorch's formula rather than the library's tap code:
// src = max(0, (o + 0.5) * in / out - 0.5), i0 = floor(src), i1 = min(i0 + 1, in - 1), weights 1 - (src - i0) and
// src - i0. `planted` is added to every interior row tap's second weight and taken from its first: a wrong weight.
// With labels above every prediction, loss = mean(label - up(pred)) and d loss / d pred[b, iy, ix] =
// -(1/n) * sum over valid label pixels of wy(oy, iy) * wx(ox, ix).
struct Taps {
  std::vector<int64_t> i0, i1;
  std::vector<double> w0, w1;
};
Taps hand_taps(int64_t in, int64_t out, double planted) {
  Taps t;
  for (int64_t o = 0; o < out; ++o) {
    double src = std::max(0.0, (double(o) + 0.5) * double(in) / double(out) - 0.5);
    int64_t i0 = int64_t(std::floor(src)), i1 = std::min(i0 + 1, in - 1);
    double lambda = src - double(i0);
    double shift = i1 != i0 ? planted : 0.0;
    t.i0.push_back(i0);
    t.i1.push_back(i1);
    t.w0.push_back(1 - lambda - shift);
    t.w1.push_back(lambda + shift);
  }
  return t;
}

Run hand_masked_l1(const Tensor& pred, const Tensor& label, double planted) {
  const int64_t n = pred.dim(0), h = pred.dim(1), w = pred.dim(2), oh = label.dim(1), ow = label.dim(2);
  REQUIRE(pred.dim(3) == 1);
  Taps ty = hand_taps(h, oh, planted), tx = hand_taps(w, ow, 0.0);
  std::vector<double> x = pred.to_double_vector(), l = label.to_double_vector();
  Tensor grad = Tensor::zeros(pred.shape(), DType::F64);
  double* g = grad.data<double>();
  double sum = 0, valid = 0;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox) {
        double lv = l[size_t((b * oh + oy) * ow + ox)];
        if (lv == 0.0) continue;
        const int64_t ys[2] = {ty.i0[size_t(oy)], ty.i1[size_t(oy)]}, xs[2] = {tx.i0[size_t(ox)], tx.i1[size_t(ox)]};
        const double wys[2] = {ty.w0[size_t(oy)], ty.w1[size_t(oy)]}, wxs[2] = {tx.w0[size_t(ox)], tx.w1[size_t(ox)]};
        double up = 0;
        for (int a = 0; a < 2; ++a)
          for (int c = 0; c < 2; ++c) up += wys[a] * wxs[c] * x[size_t((b * h + ys[a]) * w + xs[c])];
        REQUIRE(lv > up);
        sum += lv - up;
        valid += 1;
        for (int a = 0; a < 2; ++a)
          for (int c = 0; c < 2; ++c) g[(b * h + ys[a]) * w + xs[c]] -= wys[a] * wxs[c];
      }
  for (int64_t i = 0; i < grad.numel(); ++i) g[i] /= valid;
  return {Tensor::full({}, sum / valid, DType::F64), grad};
}

// Worst |a - e| / (atol + rtol |e|) over the elements: <= 1 passes.
double violation(const Tensor& a, const Tensor& e, double atol, double rtol) {
  REQUIRE(a.shape() == e.shape());
  return close_violation(a.to_double_vector(), e.to_double_vector(), atol, rtol).worst;
}
}  // namespace

TEST_CASE("upsampled masked_l1 matches a hand-written reference, and the bounds catch a planted weight error") {
  // A prediction that ramps down the rows, so a wrong row weight moves every interpolated value the same way.
  Rng rng(94);
  const int64_t n = 2, h = 7, w = 9, oh = 30, ow = 41;
  Tensor pred = Tensor::empty({n, h, w, 1}, DType::F64);
  for (int64_t i = 0; i < pred.numel(); ++i)
    pred.data<double>()[i] = 0.5 * double((i / w) % h) + 0.1 * rng.uniform();
  Tensor label = with_invalid(random_tensor({n, oh, ow, 1}, rng, 5, 6), 1, 0.2, rng);

  // f64: rounding only; a weight off by 1e-9 changes values by about 5e-10 (the ramp's step is 0.5), 1e5 times the
  // bound on loss values near 3.
  Run f64 = run([](const Tensor& p, const Tensor& l) { return ops::upsampled_masked_l1(p, l); }, pred, label);
  const double f64_rtol = 1e-12;
  Run exact = hand_masked_l1(pred, label, 0.0), planted = hand_masked_l1(pred, label, 1e-9);
  CHECK(violation(f64.loss, exact.loss, 0, f64_rtol) <= 1);
  CHECK(violation(f64.grad, exact.grad, f64_rtol * max_abs(exact.grad), f64_rtol) <= 1);
  CHECK(violation(f64.loss, planted.loss, 0, f64_rtol) > 1);
  CHECK(violation(f64.grad, planted.grad, f64_rtol * max_abs(exact.grad), f64_rtol) > 1);

  // f32: each interpolated value carries about 3 roundings of values below 4 (3 * 4 * 2^-24 = 7e-7) and the label
  // one more, so the mean is off by at most ~1e-6; the gradient's per-pixel terms (weights in [0, 1], 1/n) are
  // exact to a few ulp and each element sums at most (ceil(30/7) + 1) * (ceil(41/9) + 1) = 36 of them:
  // relative 36 * 4 * 2^-24 < 1e-5. A weight off by 1e-3 moves the loss by ~5e-4 and the gradient by ~1e-3 relative.
  Run f32 = run([](const Tensor& p, const Tensor& l) { return ops::upsampled_masked_l1(p, l); },
                pred.to(DType::F32), label.to(DType::F32));
  Run planted32 = hand_masked_l1(pred, label, 1e-3);
  CHECK(violation(f32.loss, exact.loss, 1e-5, 0) <= 1);
  CHECK(violation(f32.grad, exact.grad, 1e-5 * max_abs(exact.grad), 1e-5) <= 1);
  CHECK(violation(f32.loss, planted32.loss, 1e-5, 0) > 1);
  CHECK(violation(f32.grad, planted32.grad, 1e-5 * max_abs(exact.grad), 1e-5) > 1);
}

TEST_CASE("upsampled losses in f32 stay within the f32 bound of the f64 composition") {
  // Per label pixel, f32 carries a few ulp of values of magnitude <= ~5 (logits in [-3, 3], their log-sum-exp):
  // 16 * 5 * 2^-24 = 5e-6 absolute on the loss. Gradient elements sum at most 36 per-pixel terms, each exact to a
  // few ulp of its size (<= 1/n_valid): 36 * 16 * 2^-24 * max|g| relative to the largest, about 3.5e-5 * max|g|.
  Rng rng(95);
  for (const LossPair& lp : loss_pairs()) {
    CAPTURE(lp.name);
    Tensor pred = random_tensor({2, 7, 9, lp.channels}, rng, -3, 3);
    Tensor label = lp.label({2, 30, 41, lp.channels}, DType::F64, rng);
    Tensor label32 = label.dtype() == DType::I64 ? label : label.to(DType::F32);
    Run f32 = run(lp.fused, pred.to(DType::F32), label32), f64 = run(lp.plain, pred, label);
    check_close(f32.loss, f64.loss, 5e-6, 0, lp.name + " loss");
    check_close(f32.grad, f64.grad, 3.5e-5 * max_abs(f64.grad), 0, lp.name + " gradient");
  }
}

TEST_CASE("upsampled losses are bitwise identical for any thread count") {
  // The backward cuts the low-resolution rows into more bands as threads are added; the result must not notice.
  Rng rng(96);
  int threads = omp_get_max_threads();
  for (const LossPair& lp : loss_pairs()) {
    CAPTURE(lp.name);
    Tensor pred = random_tensor({2, 13, 11, lp.channels}, rng, -3, 3, DType::F32);
    Tensor label = lp.label({2, 100, 90, lp.channels}, DType::F32, rng);
    omp_set_num_threads(1);
    Run one = run(lp.fused, pred, label);
    omp_set_num_threads(3);
    Run three = run(lp.fused, pred, label);
    omp_set_num_threads(8);
    Run eight = run(lp.fused, pred, label);
    omp_set_num_threads(threads);
    CHECK(same_bits(one.loss, three.loss));
    CHECK(same_bits(one.grad, three.grad));
    CHECK(same_bits(one.loss, eight.loss));
    CHECK(same_bits(one.grad, eight.grad));
  }
}

TEST_CASE("upsampled losses with nothing valid are 0 with zero gradients") {
  Rng rng(97);
  Tensor pred = random_tensor({1, 2, 3, 3}, rng);
  Run ce = run([](const Tensor& p, const Tensor& l) { return ops::upsampled_cross_entropy(p, l); }, pred,
               Tensor::full({1, 5, 7}, 255, DType::I64));
  Run l1 = run([](const Tensor& p, const Tensor& l) { return ops::upsampled_masked_l1(p, l); }, pred,
               Tensor::zeros({1, 5, 7, 3}, DType::F64));
  Run normals = run([](const Tensor& p, const Tensor& l) { return ops::upsampled_normals_l1(p, l); }, pred,
                    Tensor::zeros({1, 5, 7, 3}, DType::F64));
  for (const Run& r : {ce, l1, normals}) {
    CHECK(r.loss.item() == 0.0);
    CHECK(max_abs(r.grad) == 0.0);
  }
}

TEST_CASE("upsampled losses: errors name the tensors") {
  Tensor logits = Tensor::zeros({2, 3, 4, 5}, DType::F64).set_name("semseg_lowres");
  Tensor labels = Tensor::zeros({1, 8, 8}, DType::I64).set_name("semseg_labels");
  CHECK_THROWS_WITH_AS(ops::upsampled_cross_entropy(logits, labels), doctest::Contains("'semseg_labels'"), Error);
  Tensor bad = Tensor::full({2, 8, 8}, 7, DType::I64).set_name("semseg_labels");
  CHECK_THROWS_WITH_AS(ops::upsampled_cross_entropy(logits, bad), doctest::Contains("label 7 at pixel 0"), Error);
  Tensor depth = Tensor::zeros({2, 3, 4, 1}, DType::F64).set_name("depth_lowres");
  CHECK_THROWS_WITH_AS(ops::upsampled_masked_l1(depth, Tensor::zeros({2, 8, 8, 2}, DType::F64).set_name("depth_label")),
                       doctest::Contains("'depth_label'"), Error);
  CHECK_THROWS_WITH_AS(ops::upsampled_masked_l1(depth, Tensor::zeros({2, 8, 8, 1}, DType::F32).set_name("depth_label")),
                       doctest::Contains("dtype"), Error);
  CHECK_THROWS_WITH_AS(ops::upsampled_normals_l1(depth, Tensor::zeros({2, 8, 8, 1}, DType::F64)), doctest::Contains("3 channels"),
                       Error);
  CHECK_THROWS_WITH_AS(ops::upsampled_masked_l1(Tensor::zeros({2, 4, 1}).set_name("flat"), Tensor::zeros({2, 8, 8, 1})),
                       doctest::Contains("'flat'"), Error);
}
