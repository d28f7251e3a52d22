// conv2d and linear on CUDA against the CPU reference (f32 forward and every gradient), with TF32 off (tight) and on
// (loose), and bit-for-bit repeatability of the backward pass. Without a GPU each case is reported skipped by name.
#include <string>
#include <vector>

#include "core/ops.h"
#include "cuda_parity.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::test;

TEST_CASE("cuda: conv2d on a CUDA tensor without a GPU is an Error, not a crash") {
  if (cuda_available()) return;
  CHECK_THROWS_AS(ops::conv2d(Tensor::zeros({1, 3, 3, 2}, DType::F32, Device::CUDA), Tensor::zeros({1, 1, 1, 2}),
                              Tensor()),
                  Error);
}

#ifdef MTINET_WITH_CUDA
#include "core/cuda_runtime.h"
#endif

namespace {

// Sets the TF32 switch for the guard's lifetime (nothing to set in a CPU-only build, where the tests skip).
class Tf32Guard {
 public:
#ifdef MTINET_WITH_CUDA
  explicit Tf32Guard(bool on) : previous_(cuda::tf32_enabled()) { cuda::set_tf32(on); }
  ~Tf32Guard() { cuda::set_tf32(previous_); }
#else
  explicit Tf32Guard(bool) {}
#endif
  Tf32Guard(const Tf32Guard&) = delete;
  Tf32Guard& operator=(const Tf32Guard&) = delete;

 private:
  [[maybe_unused]] bool previous_ = false;
};

struct Result {
  Tensor y;
  std::vector<Tensor> grads;  // of every input, in order (all require grad)
};

// Runs f on `inputs` moved to `device`, then backward from gy; returns the output and gradients on the CPU.
Result run_on(Device device, const TensorFn& f, const std::vector<Tensor>& inputs, const Tensor& gy) {
  std::vector<Tensor> in;
  for (const Tensor& t : inputs) in.push_back(t.detach().to(device).clone().set_requires_grad(true));
  Tensor y = f(in);
  y.backward(gy.to(device));
  Result r{y.detach().to(Device::CPU), {}};
  for (const Tensor& t : in) r.grads.push_back(t.grad().to(Device::CPU));
  return r;
}

void compare(const Result& gpu, const Result& cpu, double atol, double rtol, const std::string& what) {
  check_close(gpu.y, cpu.y, atol, rtol, what + ": output");
  for (size_t k = 0; k < cpu.grads.size(); ++k) {
    check_close(gpu.grads[k], cpu.grads[k], atol, rtol, what + ": gradient of input " + std::to_string(k));
  }
}

struct ConvCase {
  Shape x, w;
  bool bias;
  ops::Conv2dOptions opt;
};

const std::vector<ConvCase>& conv_cases() {
  static const std::vector<ConvCase> cases = {
      {{2, 5, 4, 3}, {4, 3, 3, 3}, true, {1, 1, 1}},        // 3x3 same padding
      {{1, 7, 5, 2}, {3, 3, 3, 2}, true, {2, 1, 1}},        // stride 2, odd sizes
      {{2, 3, 4, 5}, {3, 1, 1, 5}, true, {1, 0, 1}},        // pointwise
      {{2, 5, 3, 3}, {2, 1, 1, 3}, false, {2, 0, 1}},       // 1x1 stride 2
      {{1, 7, 6, 2}, {2, 3, 3, 2}, false, {1, 2, 2}},       // dilation 2
      {{2, 33, 65, 19}, {24, 3, 3, 19}, true, {1, 1, 1}},   // many blocks
      {{3, 40, 30, 32}, {64, 3, 3, 32}, true, {2, 1, 1}},   // HRNet-like downsampling
      {{2, 24, 20, 48}, {18, 1, 1, 48}, true, {1, 0, 1}},   // HRNet-like 1x1
  };
  return cases;
}

std::vector<Tensor> conv_inputs(const ConvCase& c, Rng& rng) {
  std::vector<Tensor> v{random_tensor(c.x, rng, -1, 1, DType::F32), random_tensor(c.w, rng, -0.5, 0.5, DType::F32)};
  if (c.bias) v.push_back(random_tensor({c.w[0]}, rng, -1, 1, DType::F32));
  return v;
}

TensorFn conv_fn(const ops::Conv2dOptions& opt) {
  return [opt](const std::vector<Tensor>& in) {
    return ops::conv2d(in[0], in[1], in.size() > 2 ? in[2] : Tensor(), opt);
  };
}

Tensor output_grad(const TensorFn& f, const std::vector<Tensor>& inputs, Rng& rng) {
  NoGradGuard ng;
  return random_tensor(f(inputs).shape(), rng, -1, 1, DType::F32);
}

}  // namespace

TEST_CASE("cuda: conv2d matches the CPU, TF32 off (tight) and on (loose)") {
  if (skip_without_gpu()) return;
  Rng rng(21);
  for (const ConvCase& c : conv_cases()) {
    std::vector<Tensor> in = conv_inputs(c, rng);
    TensorFn f = conv_fn(c.opt);
    Tensor gy = output_grad(f, in, rng);
    Result cpu = run_on(Device::CPU, f, in, gy);
    std::string what = "conv2d x " + shape_str(c.x) + " w " + shape_str(c.w);
    {
      Tf32Guard tf32(false);
      compare(run_on(Device::CUDA, f, in, gy), cpu, 1e-4, 1e-4, what + " (fp32)");
    }
    {
      Tf32Guard tf32(true);
      Result gpu = run_on(Device::CUDA, f, in, gy);
      CHECK(rel_l2(gpu.y, cpu.y) < 5e-3);
      for (size_t k = 0; k < cpu.grads.size(); ++k) CHECK(rel_l2(gpu.grads[k], cpu.grads[k]) < 5e-3);
    }
  }
}

TEST_CASE("cuda: conv2d backward is bit-for-bit repeatable") {
  if (skip_without_gpu()) return;
  Rng rng(22);
  ConvCase c{{4, 48, 40, 16}, {32, 3, 3, 16}, true, {1, 1, 1}};
  std::vector<Tensor> in = conv_inputs(c, rng);
  TensorFn f = conv_fn(c.opt);
  Tensor gy = output_grad(f, in, rng);
  Result a = run_on(Device::CUDA, f, in, gy), b = run_on(Device::CUDA, f, in, gy);
  CHECK(a.y.to_double_vector() == b.y.to_double_vector());
  for (size_t k = 0; k < a.grads.size(); ++k) CHECK(a.grads[k].to_double_vector() == b.grads[k].to_double_vector());
}

TEST_CASE("cuda: the bias gradient over millions of rows matches the CPU") {
  if (skip_without_gpu()) return;
  // 2.1M pixels: more rows than 4096 partial blocks of 512, so each partial covers more rows.
  Rng rng(23);
  ConvCase c{{1, 1024, 2100, 1}, {2, 1, 1, 1}, true, {1, 0, 1}};
  std::vector<Tensor> in = conv_inputs(c, rng);
  TensorFn f = conv_fn(c.opt);
  Tensor gy = output_grad(f, in, rng);
  Tf32Guard tf32(false);
  Result cpu = run_on(Device::CPU, f, in, gy), gpu = run_on(Device::CUDA, f, in, gy);
  check_close(gpu.grads[2], cpu.grads[2], 1e-2, 1e-5, "bias gradient");
}

TEST_CASE("cuda: linear matches the CPU") {
  if (skip_without_gpu()) return;
  Rng rng(24);
  for (Shape sizes : std::vector<Shape>{{1, 1, 1}, {5, 7, 4}, {64, 300, 37}}) {
    std::vector<Tensor> in{random_tensor({sizes[0], sizes[1]}, rng, -1, 1, DType::F32),
                           random_tensor({sizes[2], sizes[1]}, rng, -1, 1, DType::F32),
                           random_tensor({sizes[2]}, rng, -1, 1, DType::F32)};
    TensorFn f = [](const std::vector<Tensor>& v) { return ops::linear(v[0], v[1], v[2]); };
    Tensor gy = output_grad(f, in, rng);
    Tf32Guard tf32(false);
    compare(run_on(Device::CUDA, f, in, gy), run_on(Device::CPU, f, in, gy), 1e-4, 1e-4,
            "linear " + shape_str(sizes));
  }
}

TEST_CASE("cuda: conv2d in f64 is refused with a clear message") {
  if (skip_without_gpu()) return;
  Tensor x = Tensor::zeros({1, 3, 3, 2}, DType::F64, Device::CUDA);
  Tensor w = Tensor::zeros({1, 1, 1, 2}, DType::F64, Device::CUDA);
  CHECK_THROWS_WITH_AS(ops::conv2d(x, w, Tensor()), doctest::Contains("f32 only"), Error);
}
