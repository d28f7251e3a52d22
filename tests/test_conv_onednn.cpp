// The f32 CPU convolutions of oneDNN (kernels/conv/conv2d_onednn.h) against the f64 im2col + GEMM path, over MTI-Net's
// shape classes: every output of every direction within the rounding-error bound of an f32 dot product, and the
// same bits for any thread count. Skipped when the build has no oneDNN.
#include <omp.h>

#include <cmath>
#include <string>

#include "core/ops.h"
#include "kernels/conv/conv2d_onednn.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::test;

namespace {

struct Case {
  const char* name;
  Shape x, w;  // NHWC, OHWI
  ops::Conv2dOptions opt;
};

// HRNet-W18's channel counts (18, 36, 72, 144: not multiples of oneDNN's 8/16-channel blocks), the stem's 3-channel
// input, stride 2, 1x1 fusions, a dilated and an odd-sized, odd-strided kernel.
const Case kCases[] = {
    {"stem 3x3 s2 3->16", {2, 33, 47, 3}, {16, 3, 3, 3}, {2, 1, 1}},
    {"3x3 18->18", {2, 16, 24, 18}, {18, 3, 3, 18}, {1, 1, 1}},
    {"3x3 s2 18->36", {2, 16, 24, 18}, {36, 3, 3, 18}, {2, 1, 1}},
    {"1x1 144->18", {2, 4, 6, 144}, {18, 1, 1, 144}, {1, 0, 1}},
    {"1x1 270->40", {1, 16, 24, 270}, {40, 1, 1, 270}, {1, 0, 1}},
    {"3x3 d2 20->12", {3, 13, 11, 20}, {12, 3, 3, 20}, {1, 2, 2}},
    {"5x3 s3 7->5", {2, 17, 19, 7}, {5, 5, 3, 7}, {3, 2, 1}},
    // The last input row and column are never read: oneDNN would need an end padding of -1, so this one runs on
    // the GEMM path in f32 too (checked below).
    {"1x1 s2 on an even size 4->3", {2, 6, 8, 4}, {3, 1, 1, 4}, {2, 0, 1}},
};

// How many elements of an f32 result lie outside the rounding bound of the f64 one, and the worst error / bound.
// An f32 sum of K products is within gamma_K * sum |products| of the exact one (gamma_K = K u / (1 - K u),
// u = 2^-24; Higham, Accuracy and Stability, 3.1), and the inputs are exact in f32, so `magnitude` (the same
// convolution of |x|, |w|, |gy| in f64) bounds each element's error rigorously.
size_t over_rounding_bound(const Tensor& f32, const Tensor& f64, const Tensor& magnitude, int64_t k, double& worst) {
  const double ku = double(k) * std::ldexp(1.0, -24), gamma = ku / (1 - ku);
  const std::vector<double> a = f32.to_double_vector(), e = f64.to_double_vector(), m = magnitude.to_double_vector();
  REQUIRE(a.size() == e.size());
  size_t over = 0;
  worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double err = std::abs(a[i] - e[i]), bound = gamma * m[i] + 1e-30;
    worst = std::max(worst, err / bound);
    if (err > bound) ++over;
  }
  return over;
}

void check_within_rounding(const Tensor& f32, const Tensor& f64, const Tensor& magnitude, int64_t k,
                           const std::string& what) {
  double worst = 0;
  const size_t over = over_rounding_bound(f32, f64, magnitude, k, worst);
  INFO(what << ": worst error / bound " << worst);
  CHECK(over == 0);
}

struct Directions {
  Tensor y, gx, gw;
};

Directions run(const Tensor& x, const Tensor& w, const Tensor& gy, const ops::Conv2dOptions& opt) {
  Tensor xl = x.clone().set_requires_grad(true), wl = w.clone().set_requires_grad(true);
  Tensor y = ops::conv2d(xl, wl, Tensor(), opt);
  y.backward(gy);
  return {y.detach(), xl.grad(), wl.grad()};
}

// |t| in f64.
Tensor absolute(const Tensor& t) {
  std::vector<double> v = t.to_double_vector();
  for (double& e : v) e = std::abs(e);
  return Tensor::from_vector(t.shape(), v);
}

}  // namespace

TEST_CASE("oneDNN f32 convolutions are within f32 rounding of the f64 GEMM path in every direction") {
  if (std::string(kernels::onednn_version()).empty()) {
    MESSAGE("this build has no oneDNN");
    return;
  }
  for (const Case& c : kCases) {
    INFO("case " << c.name);
    Rng rng(41);
    Tensor x = random_tensor(c.x, rng, -1, 1, DType::F32), w = random_tensor(c.w, rng, -0.5, 0.5, DType::F32);
    Tensor y_shape = ops::conv2d(x, w, Tensor(), c.opt);
    Tensor gy = random_tensor(y_shape.shape(), rng, -1, 1, DType::F32);
    const Directions ours = run(x, w, gy, c.opt);
    const Directions exact = run(x.to(DType::F64), w.to(DType::F64), gy.to(DType::F64), c.opt);
    const Directions size = run(absolute(x), absolute(w), absolute(gy), c.opt);
    const int64_t taps = c.w[1] * c.w[2] * c.w[3], pixels = gy.dim(0) * gy.dim(1) * gy.dim(2);
    check_within_rounding(ours.y, exact.y, size.y, taps, "y");
    check_within_rounding(ours.gx, exact.gx, size.gx, c.w[0] * c.w[1] * c.w[2], "gx");
    check_within_rounding(ours.gw, exact.gw, size.gw, pixels, "gw");
  }
}

TEST_CASE("oneDNN takes the shapes it can express and leaves the rest to the GEMM path") {
  if (std::string(kernels::onednn_version()).empty()) return;
  kernels::Conv2dShape s;
  s.n = 2, s.h = 6, s.w = 8, s.cin = 4, s.cout = 3, s.kh = 1, s.kw = 1, s.stride = 2, s.padding = 0;
  s.ho = 3, s.wo = 4;
  CHECK_FALSE(kernels::onednn_conv_usable(s));  // end padding -1
  s.h = 5, s.w = 7;                              // same output, every input row and column read
  CHECK(kernels::onednn_conv_usable(s));
}

TEST_CASE("oneDNN convolution bounds catch a planted error of one tap") {
  if (std::string(kernels::onednn_version()).empty()) return;
  const Case& c = kCases[1];
  Rng rng(41);
  Tensor x = random_tensor(c.x, rng, -1, 1, DType::F32), w = random_tensor(c.w, rng, -0.5, 0.5, DType::F32);
  Tensor gy = random_tensor(ops::conv2d(x, w, Tensor(), c.opt).shape(), rng, -1, 1, DType::F32);
  const Directions ours = run(x, w, gy, c.opt);
  // The reference with one of the 162 taps of one filter off by 1%: a wrong tap (a misplaced index, a lost
  // channel) is far above the bound, ~1e-5 of the sum of |products| here. Rounding-level differences are not
  // caught: the per-element bound is the worst case (measured errors sit 10-1000x under it), so this test guards
  // the structure of the convolution, and tests/test_model_golden.cpp judges the f32 accuracy of the whole model.
  Tensor w_planted = w.to(DType::F64).clone();
  w_planted.data<double>()[5] *= 1.01;
  const Directions planted = run(x.to(DType::F64), w_planted, gy.to(DType::F64), c.opt);
  const Directions size = run(absolute(x), absolute(w), absolute(gy), c.opt);
  double worst = 0;
  CHECK(over_rounding_bound(ours.y, planted.y, size.y, c.w[1] * c.w[2] * c.w[3], worst) > 0);
}

TEST_CASE("oneDNN convolutions give the same bits for any thread count") {
  if (std::string(kernels::onednn_version()).empty()) return;
  const int before = omp_get_max_threads();
  for (const Case& c : kCases) {
    INFO("case " << c.name);
    Rng rng(7);
    Tensor x = random_tensor(c.x, rng, -1, 1, DType::F32), w = random_tensor(c.w, rng, -0.5, 0.5, DType::F32);
    Tensor gy = random_tensor(ops::conv2d(x, w, Tensor(), c.opt).shape(), rng, -1, 1, DType::F32);
    omp_set_num_threads(1);
    const Directions one = run(x, w, gy, c.opt);
    omp_set_num_threads(3);
    const Directions three = run(x, w, gy, c.opt);
    omp_set_num_threads(before);
    CHECK(one.y.to_double_vector() == three.y.to_double_vector());
    CHECK(one.gx.to_double_vector() == three.gx.to_double_vector());
    CHECK(one.gw.to_double_vector() == three.gw.to_double_vector());
  }
}
