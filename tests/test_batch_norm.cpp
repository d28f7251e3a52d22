// batch_norm: gradient checks in f64 (training and eval, with and without affine, N=1, odd sizes, 2-d input),
// PyTorch goldens (nn.BatchNorm2d/1d: outputs, gradients, running statistics over two steps), in-place update
// tracking, thread-count independence and error messages. CUDA against CPU: tests/test_cuda_parity_norm.cpp.
#include <omp.h>

#include <cmath>
#include <string>

#include "core/ops.h"
#include "kernels/cpu_parallel.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::test;

namespace {

constexpr double kEps = 1e-5;

Tensor bn(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& rm, const Tensor& rv, bool training,
          double momentum = 0.1) {
  return ops::batch_norm(x, w, b, rm, rv, training, momentum, kEps);
}

// Running statistics that are not the identity (mean != 0, var != 1), as fresh tensors.
struct Running {
  Tensor mean, var;
  Running(int64_t c, Rng& rng) : mean(random_tensor({c}, rng)), var(random_tensor({c}, rng, 0.5, 2.0)) {}
};

}  // namespace

TEST_CASE("batch_norm training gradient, affine, with running statistics") {
  Rng rng(1);
  Tensor x = random_tensor({2, 3, 2, 3}, rng, -2, 3).set_requires_grad(true);
  Tensor w = random_tensor({3}, rng, 0.5, 1.5).set_requires_grad(true);
  Tensor b = random_tensor({3}, rng).set_requires_grad(true);
  Running r(3, rng);
  gradcheck([&](const std::vector<Tensor>& in) { return bn(in[0], in[1], in[2], r.mean, r.var, true); }, {x, w, b});
}

TEST_CASE("batch_norm training gradient, no affine, N=1 with H,W > 1, odd sizes") {
  Rng rng(2);
  Tensor x = random_tensor({1, 3, 5, 3}, rng, -1, 2).set_requires_grad(true);
  gradcheck([](const std::vector<Tensor>& in) { return bn(in[0], Tensor(), Tensor(), Tensor(), Tensor(), true); },
            {x});
  Tensor x2 = random_tensor({3, 5, 1, 7}, rng, -1, 2).set_requires_grad(true);
  Tensor w = random_tensor({7}, rng, 0.5, 1.5).set_requires_grad(true);
  Tensor b = random_tensor({7}, rng).set_requires_grad(true);
  gradcheck([](const std::vector<Tensor>& in) { return bn(in[0], in[1], in[2], Tensor(), Tensor(), true); },
            {x2, w, b});
}

TEST_CASE("batch_norm training gradient on a 2-d {N,C} input") {
  Rng rng(3);
  Tensor x = random_tensor({5, 3}, rng, -1, 2).set_requires_grad(true);
  Tensor w = random_tensor({3}, rng, 0.5, 1.5).set_requires_grad(true);
  Tensor b = random_tensor({3}, rng).set_requires_grad(true);
  gradcheck([](const std::vector<Tensor>& in) { return bn(in[0], in[1], in[2], Tensor(), Tensor(), true); },
            {x, w, b});
}

TEST_CASE("batch_norm eval gradient, with and without affine") {
  Rng rng(4);
  Running r(4, rng);
  Tensor x = random_tensor({2, 3, 3, 4}, rng, -2, 3).set_requires_grad(true);
  Tensor w = random_tensor({4}, rng, 0.5, 1.5).set_requires_grad(true);
  Tensor b = random_tensor({4}, rng).set_requires_grad(true);
  gradcheck([&](const std::vector<Tensor>& in) { return bn(in[0], in[1], in[2], r.mean, r.var, false); }, {x, w, b});
  gradcheck([&](const std::vector<Tensor>& in) { return bn(in[0], Tensor(), Tensor(), r.mean, r.var, false); }, {x});
  // Only the affine parameters need gradients (a frozen input).
  Tensor xc = x.detach();
  gradcheck([&](const std::vector<Tensor>& in) { return bn(xc, in[0], in[1], r.mean, r.var, false); }, {w, b});
}

namespace {

// A fixture tensor in mtinet's layout (NCHW -> NHWC for 4-d) and the requested dtype, as a fresh copy.
Tensor fixture_tensor(const SafetensorsContents& f, const std::string& key, DType dt) {
  Tensor t = f.at(key);
  if (t.ndim() == 4) t = nchw_to_nhwc(t);
  return t.to(dt).clone();
}

struct Tolerance {
  double atol, rtol;
};
Tolerance tolerance(DType dt) { return dt == DType::F64 ? Tolerance{1e-10, 1e-9} : Tolerance{1e-5, 1e-4}; }

void expect(const SafetensorsContents& f, const Tensor& actual, const std::string& key, DType dt) {
  Tolerance tol = tolerance(dt);
  check_close(actual, fixture_tensor(f, key, DType::F64), tol.atol, tol.rtol, key + " (" + dtype_name(dt) + ")");
}

// One forward/backward of the fixture's step `prefix` through batch_norm; checks y and the gradients.
void check_step(const SafetensorsContents& f, const std::string& prefix, DType dt, const Tensor& w, const Tensor& b,
                const Tensor& rm, const Tensor& rv, bool training, double momentum) {
  Tensor x = fixture_tensor(f, prefix + ".x", dt).set_requires_grad(true);
  for (const Tensor& p : {w, b}) if (p.defined()) p.impl().grad.reset();
  Tensor y = bn(x, w, b, rm, rv, training, momentum);
  y.backward(fixture_tensor(f, prefix + ".gy", dt));
  expect(f, y, prefix + ".y", dt);
  expect(f, x.grad(), prefix + ".gx", dt);
  if (w.defined()) expect(f, w.grad(), prefix + ".gweight", dt);
  if (b.defined()) expect(f, b.grad(), prefix + ".gbias", dt);
}

}  // namespace

TEST_CASE("batch_norm matches nn.BatchNorm2d over two training steps and in eval") {
  SafetensorsContents f = load_fixture("batch_norm.safetensors");
  for (DType dt : {DType::F64, DType::F32}) {
    Tensor w = fixture_tensor(f, "train.init.weight", dt).set_requires_grad(true);
    Tensor b = fixture_tensor(f, "train.init.bias", dt).set_requires_grad(true);
    Tensor rm = fixture_tensor(f, "train.init.running_mean", dt);
    Tensor rv = fixture_tensor(f, "train.init.running_var", dt);
    for (const std::string step : {"train.step1", "train.step2"}) {
      uint64_t vm = rm.version(), vv = rv.version();
      check_step(f, step, dt, w, b, rm, rv, true, 0.1);
      CHECK(rm.version() > vm);  // updated in place, and the update is visible to version tracking
      CHECK(rv.version() > vv);
      expect(f, rm, step + ".running_mean", dt);
      expect(f, rv, step + ".running_var", dt);
    }
    uint64_t vm = rm.version();
    check_step(f, "eval", dt, w, b, rm, rv, false, 0.1);
    CHECK(rm.version() == vm);  // eval leaves the running statistics alone
    expect(f, rm, "train.step2.running_mean", dt);
    expect(f, rv, "train.step2.running_var", dt);

    // momentum 0.01: only the running statistics differ.
    Tensor rm2 = fixture_tensor(f, "train.init.running_mean", dt);
    Tensor rv2 = fixture_tensor(f, "train.init.running_var", dt);
    NoGradGuard ng;
    for (const std::string step : {"step1", "step2"}) {
      bn(fixture_tensor(f, "train." + step + ".x", dt), w, b, rm2, rv2, true, 0.01);
      expect(f, rm2, "train_m001." + step + ".running_mean", dt);
      expect(f, rv2, "train_m001." + step + ".running_var", dt);
    }
  }
}

TEST_CASE("batch_norm matches PyTorch without affine (N=1) and on a 2-d input") {
  SafetensorsContents f = load_fixture("batch_norm.safetensors");
  for (DType dt : {DType::F64, DType::F32}) {
    Tensor rm = fixture_tensor(f, "noaffine.init.running_mean", dt);
    Tensor rv = fixture_tensor(f, "noaffine.init.running_var", dt);
    check_step(f, "noaffine.step1", dt, Tensor(), Tensor(), rm, rv, true, 0.1);
    expect(f, rm, "noaffine.step1.running_mean", dt);
    expect(f, rv, "noaffine.step1.running_var", dt);

    Tensor w = fixture_tensor(f, "flat.init.weight", dt).set_requires_grad(true);
    Tensor b = fixture_tensor(f, "flat.init.bias", dt).set_requires_grad(true);
    Tensor frm = fixture_tensor(f, "flat.init.running_mean", dt);
    Tensor frv = fixture_tensor(f, "flat.init.running_var", dt);
    check_step(f, "flat.step1", dt, w, b, frm, frv, true, 0.1);
    expect(f, frm, "flat.step1.running_mean", dt);
    expect(f, frv, "flat.step1.running_var", dt);
  }
}

TEST_CASE("batch_norm eval backward notices running statistics updated after its forward") {
  Rng rng(5);
  Running r(3, rng);
  Tensor x = random_tensor({2, 2, 2, 3}, rng).set_requires_grad(true);
  Tensor y = bn(x, Tensor(), Tensor(), r.mean, r.var, false);
  bn(x.detach(), Tensor(), Tensor(), r.mean, r.var, true);  // a training step rewrites the running stats
  CHECK_THROWS_WITH_AS(y.backward(Tensor::full(y.shape(), 1.0, DType::F64)),
                       doctest::Contains("modified in place"), Error);
}

TEST_CASE("batch_norm f32 statistics: no cancellation on a large offset, independent of thread count") {
  Rng rng(6);
  // rows * channels above the OpenMP threshold, so the chunked reduction really runs on several threads.
  static_assert(4 * 66 * 128 * 8 > kernels::kMinParallelElements);
  Tensor x = random_tensor({4, 66, 128, 8}, rng, -1, 1, DType::F32);
  float* p = x.data<float>();
  for (int64_t i = 0; i < x.numel(); ++i) p[i] += 1e4f;
  Tensor w = random_tensor({8}, rng, 0.5, 1.5, DType::F32);

  auto run = [&](int threads) {
    int previous = omp_get_max_threads();
    omp_set_num_threads(threads);
    Tensor rm = Tensor::zeros({8}), rv = Tensor::full({8}, 1.0);
    Tensor y = bn(x, w, Tensor(), rm, rv, true);
    omp_set_num_threads(previous);
    return std::vector<std::vector<double>>{y.to_double_vector(), rm.to_double_vector(), rv.to_double_vector()};
  };
  auto one = run(1), several = run(3);
  CHECK(one == several);  // bit-identical

  // The running variance after one step from 1 is 0.9 + 0.1 * unbiased batch variance; compare with a double
  // reference computed from the same f32 values (uniform(-1,1) has variance 1/3).
  const int64_t m = x.numel() / 8;
  for (int64_t c = 0; c < 8; ++c) {
    double s = 0, sq = 0;
    for (int64_t r = 0; r < m; ++r) s += double(p[r * 8 + c]);
    double mean = s / double(m);
    for (int64_t r = 0; r < m; ++r) sq += (double(p[r * 8 + c]) - mean) * (double(p[r * 8 + c]) - mean);
    double expected = 0.9 + 0.1 * sq / double(m - 1);
    CHECK(one[2][size_t(c)] == doctest::Approx(expected).epsilon(1e-6));
    CHECK(sq / double(m) == doctest::Approx(1.0 / 3.0).epsilon(0.05));
  }
}

TEST_CASE("batch_norm rejects bad shapes and modes with messages naming the tensor") {
  Tensor x = Tensor::zeros({2, 3, 3, 4}).set_name("feat");
  Tensor w = Tensor::full({3}, 1.0).set_name("bn.weight");
  CHECK_THROWS_WITH_AS(bn(x, w, Tensor(), Tensor(), Tensor(), true),
                       doctest::Contains("weight 'bn.weight' f32 cpu [3] must have shape [4]"), Error);
  Tensor rm = Tensor::zeros({4}).set_name("bn.running_mean");
  CHECK_THROWS_WITH_AS(bn(x, Tensor(), Tensor(), rm, Tensor(), true),
                       doctest::Contains("both be given"), Error);
  CHECK_THROWS_WITH_AS(bn(x, Tensor(), Tensor(), Tensor(), Tensor(), false),
                       doctest::Contains("'feat' f32 cpu [2, 3, 3, 4]"), Error);
  Tensor rv64 = Tensor::full({4}, 1.0, DType::F64).set_name("bn.running_var");
  CHECK_THROWS_WITH_AS(bn(x, Tensor(), Tensor(), rm, rv64, true), doctest::Contains("'bn.running_var' f64"), Error);
  CHECK_THROWS_WITH_AS(bn(Tensor::zeros({1, 1, 1, 4}).set_name("single"), Tensor(), Tensor(), Tensor(), Tensor(), true),
                       doctest::Contains("more than one value per channel"), Error);
  CHECK_THROWS_WITH_AS(bn(Tensor::zeros({2, 3, 4}).set_name("three_d"), Tensor(), Tensor(), Tensor(), Tensor(), true),
                       doctest::Contains("'three_d'"), Error);
}
