// batch_norm_relu (BatchNorm, + residual, ReLU fused): bit-identical to batch_norm, add and relu composed on the CPU
// (f64 and f32: outputs, every gradient including the residual's, running statistics; training and eval; with and
// without residual, ReLU and affine), finite-difference gradients in f64, thread-count independence, and errors
// naming the tensors. CUDA against CPU: tests/test_cuda_parity_norm.cpp.
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
constexpr double kMomentum = 0.1;

// One configuration of the fused op: which parts are there.
struct Variant {
  bool training, residual, relu, affine;
  std::string name() const {
    return std::string(training ? "training" : "eval") + (residual ? " +residual" : "") + (relu ? " relu" : "") +
           (affine ? " affine" : "");
  }
};

std::vector<Variant> all_variants() {
  std::vector<Variant> v;
  for (bool training : {true, false})
    for (bool residual : {true, false})
      for (bool relu : {true, false})
        for (bool affine : {true, false}) v.push_back({training, residual, relu, affine});
  return v;
}

// Inputs of one run: x, weight, bias, residual require grad (when present); fresh running statistics that are not
// the identity, so eval mode really uses them.
struct Inputs {
  Tensor x, weight, bias, residual, running_mean, running_var;
  Inputs(const Shape& shape, const Variant& v, uint64_t seed, DType dt) {
    Rng rng(seed);
    const int64_t c = shape.back();
    x = random_tensor(shape, rng, -2, 3, dt).set_requires_grad(true);
    if (v.affine) {
      weight = random_tensor({c}, rng, 0.5, 1.5, dt).set_requires_grad(true);
      bias = random_tensor({c}, rng, -0.5, 0.5, dt).set_requires_grad(true);
    }
    if (v.residual) residual = random_tensor(shape, rng, -1, 1, dt).set_requires_grad(true);
    running_mean = random_tensor({c}, rng, -1, 1, dt);
    running_var = random_tensor({c}, rng, 0.5, 2, dt);
  }
};

Tensor fused(const Inputs& in, const Variant& v) {
  return ops::batch_norm_relu(in.x, in.weight, in.bias, in.running_mean, in.running_var, v.training, kMomentum, kEps,
                              in.residual, v.relu);
}

// What the layers computed before the fusion: three ops, the sum and the pre-ReLU value materialised.
Tensor unfused(const Inputs& in, const Variant& v) {
  Tensor y = ops::batch_norm(in.x, in.weight, in.bias, in.running_mean, in.running_var, v.training, kMomentum, kEps);
  if (v.residual) y = ops::add(y, in.residual);
  return v.relu ? ops::relu(y) : y;
}

// Everything a run produces, as doubles: output, gradients of x, weight, bias and residual, running statistics.
using Results = std::vector<std::vector<double>>;
Results run(const Inputs& in, const Variant& v, bool use_fused, uint64_t gy_seed) {
  Tensor y = use_fused ? fused(in, v) : unfused(in, v);
  Rng rng(gy_seed);
  y.backward(random_tensor(y.shape(), rng, -1, 1, y.dtype()));
  Results r{y.to_double_vector(), in.x.grad().to_double_vector()};
  for (const Tensor& t : {in.weight, in.bias, in.residual})
    r.push_back(t.defined() ? t.grad().to_double_vector() : std::vector<double>{});
  r.push_back(in.running_mean.to_double_vector());
  r.push_back(in.running_var.to_double_vector());
  return r;
}

const char* kResultNames[] = {"output", "x grad", "weight grad", "bias grad", "residual grad", "running_mean",
                              "running_var"};

// Exact equality, element by element (NaN never equal), naming the first difference.
void check_same_bits(const Results& a, const Results& b, const std::string& what) {
  REQUIRE(a.size() == b.size());
  for (size_t k = 0; k < a.size(); ++k) {
    INFO(what << ": " << kResultNames[k]);
    REQUIRE(a[k].size() == b[k].size());
    size_t differ = 0;
    for (size_t i = 0; i < a[k].size(); ++i) differ += a[k][i] == b[k][i] ? 0 : 1;
    CHECK(differ == 0);
  }
}

// Moves elements of x (eval: x, training: x with the statistics it changes) until every pre-ReLU value
// BN(x) + residual is at least `margin` away from 0, so finite differences never straddle ReLU's kink.
void keep_away_from_kink(const Inputs& in, const Variant& v, double margin) {
  for (int round = 0; round < 50; ++round) {
    Tensor z;
    {
      NoGradGuard ng;
      Tensor rm = in.running_mean.clone(), rv = in.running_var.clone();
      z = ops::batch_norm_relu(in.x, in.weight, in.bias, rm, rv, v.training, kMomentum, kEps, in.residual, false);
    }
    const int64_t c = in.x.dim(-1);
    double* xp = in.x.data<double>();
    const double* zp = z.data<double>();
    bool moved = false;
    for (int64_t i = 0; i < z.numel(); ++i) {
      if (std::abs(zp[i]) >= margin) continue;
      const double w = in.weight.defined() ? in.weight.data<double>()[i % c] : 1.0;
      xp[i] += (zp[i] >= 0) == (w >= 0) ? 0.3 : -0.3;  // push z further the way it already leans
      moved = true;
    }
    if (!moved) return;
  }
  FAIL("could not move the pre-ReLU values away from 0");
}

}  // namespace

TEST_CASE("batch_norm_relu equals batch_norm, add and relu bit for bit on the CPU, f64 and f32") {
  // The formulas are the same (bn_apply, then + residual, then relu_fwd; the backward's relu_bwd feeds the same
  // sums and input-gradient formula), each rounding to the dtype in the same order, so every bit must agree.
  uint64_t seed = 40;
  for (DType dt : {DType::F64, DType::F32}) {
    for (const Variant& v : all_variants()) {
      for (const Shape& shape : {Shape{2, 5, 7, 6}, Shape{1, 3, 4, 33}, Shape{9, 5}}) {
        ++seed;
        Inputs a(shape, v, seed, dt), b(shape, v, seed, dt);
        std::string what = v.name() + " " + dtype_name(dt) + " " + a.x.describe();
        check_same_bits(run(a, v, true, seed), run(b, v, false, seed), what);
      }
    }
  }
}

TEST_CASE("the bit-for-bit comparison notices a one-ulp difference") {
  // A planted error in one element of one result must fail the comparison used above.
  Variant v{true, true, true, true};
  Inputs a({2, 3, 3, 4}, v, 1, DType::F32), b({2, 3, 3, 4}, v, 1, DType::F32);
  Results fa = run(a, v, true, 2), fb = run(b, v, false, 2);
  for (size_t k = 0; k < fb.size(); ++k) {
    Results planted = fb;
    double& e = planted[k][planted[k].size() / 2];
    e = double(std::nextafter(float(e), 1e30f));
    size_t differ = 0;
    for (size_t i = 0; i < fa[k].size(); ++i) differ += fa[k][i] == planted[k][i] ? 0 : 1;
    CHECK_MESSAGE(differ == 1, kResultNames[k]);
  }
}

TEST_CASE("batch_norm_relu gradients match finite differences in f64") {
  uint64_t seed = 70;
  for (const Variant& v : all_variants()) {
    for (const Shape& shape : {Shape{2, 3, 2, 3}, Shape{5, 3}}) {
      INFO(v.name() << " " << shape_str(shape));
      Inputs in(shape, v, ++seed, DType::F64);
      if (v.relu) keep_away_from_kink(in, v, 0.05);
      std::vector<Tensor> args{in.x};
      if (v.affine) args.insert(args.end(), {in.weight, in.bias});
      if (v.residual) args.push_back(in.residual);
      auto f = [&](const std::vector<Tensor>& t) {
        Tensor w = v.affine ? t[1] : Tensor(), b = v.affine ? t[2] : Tensor();
        Tensor r = v.residual ? t.back() : Tensor();
        return ops::batch_norm_relu(t[0], w, b, in.running_mean, in.running_var, v.training, kMomentum, kEps, r,
                                    v.relu);
      };
      gradcheck(f, args);
    }
  }
}

TEST_CASE("batch_norm_relu in eval with a frozen input and affine: the ReLU mask without a reduction") {
  // Only x requires grad in eval mode: the backward runs no BatchNorm reduction, so the mask comes from relu_backward.
  Variant v{false, true, true, true};
  Inputs in({2, 3, 3, 4}, v, 90, DType::F64);
  keep_away_from_kink(in, v, 0.05);
  Tensor w = in.weight.detach(), b = in.bias.detach(), r = in.residual.detach();
  gradcheck([&](const std::vector<Tensor>& t) {
    return ops::batch_norm_relu(t[0], w, b, in.running_mean, in.running_var, false, kMomentum, kEps, r, true);
  }, {in.x});
}

TEST_CASE("batch_norm_relu forward and backward do not depend on the thread count") {
  // rows * channels above the OpenMP threshold, so the apply, the chunked reduction and the input gradient really
  // run on several threads.
  static_assert(2 * 64 * 80 * 36 > kernels::kMinParallelElements);
  Variant v{true, true, true, true};
  auto with_threads = [&](int threads) {
    int previous = omp_get_max_threads();
    omp_set_num_threads(threads);
    Inputs in({2, 64, 80, 36}, v, 5, DType::F32);
    Results r = run(in, v, true, 6);
    omp_set_num_threads(previous);
    return r;
  };
  check_same_bits(with_threads(1), with_threads(3), "1 against 3 threads");
}

TEST_CASE("batch_norm_relu saves its output for the mask and refuses it modified before backward") {
  Variant v{true, false, true, true};
  Inputs in({2, 3, 3, 4}, v, 8, DType::F64);
  Tensor y = fused(in, v);
  {  // an in-place write to the saved output, as a later in-place op would do
    Tensor y2 = y.detach();
    y2.data<double>()[0] += 1.0;
    y2.bump_version();
  }
  CHECK_THROWS_WITH_AS(y.backward(Tensor::full(y.shape(), 1.0, DType::F64)), doctest::Contains("modified in place"),
                       Error);
}

TEST_CASE("batch_norm_relu rejects a residual that does not match the input, naming both") {
  Tensor x = Tensor::zeros({2, 3, 3, 4}).set_name("feat");
  Tensor rm = Tensor::zeros({4}), rv = Tensor::full({4}, 1.0);
  auto call = [&](const Tensor& r) {
    return ops::batch_norm_relu(x, Tensor(), Tensor(), rm, rv, true, kMomentum, kEps, r, true);
  };
  std::string shape_msg = error_message([&] { call(Tensor::zeros({2, 3, 3, 5}).set_name("skip")); });
  CHECK(shape_msg.find("batch_norm_add_relu") != std::string::npos);
  CHECK(shape_msg.find("residual 'skip' f32 cpu [2, 3, 3, 5]") != std::string::npos);
  CHECK(shape_msg.find("input 'feat' f32 cpu [2, 3, 3, 4]") != std::string::npos);
  std::string dtype_msg = error_message([&] { call(Tensor::zeros({2, 3, 3, 4}, DType::F64).set_name("skip64")); });
  CHECK(dtype_msg.find("residual 'skip64' f64") != std::string::npos);
  // A rejected input leaves the running statistics alone.
  CHECK(rm.to_double_vector() == std::vector<double>(4, 0.0));
}
