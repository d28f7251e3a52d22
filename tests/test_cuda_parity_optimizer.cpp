// CUDA against the CPU for the optimiser kernels (kernels/optimizer/optimizer.h): SGD and Adam/AdamW steps over several
// steps (parameters and every state buffer), the f64-accumulated sum of squares (bitwise repeatable), scale_by with a
// device factor, and the Optimizer/clip_grad_norm pair of train/optimizer.h on a ParameterSet moved to the GPU.
// Sizes include a single element, odd counts and one spanning many blocks. Without a GPU these report skipped.
#include <cmath>
#include <string>

#include "cuda_parity.h"
#include "kernels/optimizer/optimizer.h"
#include "train/optimizer.h"

using namespace mtinet;
using namespace mtinet::test;

namespace {
// A few flops per element and step; the device may contract a multiply-add into an FMA.
constexpr Tolerance kStep{1e-7, 1e-6};
// Adam adds a square root and a division per element.
constexpr Tolerance kAdamStep{1e-7, 1e-5};
// A double sum rounded to f32: at most one f32 rounding apart.
constexpr Tolerance kSumF32{0.0, 1e-6};
constexpr Tolerance kBitwise{0.0, 0.0};

const int64_t kSizes[] = {1, 7, 1000, 1000003};
constexpr int kSteps = 3;

Tensor f32(int64_t n, Rng& rng, double lo = -1.0, double hi = 1.0) {
  return random_tensor({n}, rng, lo, hi, DType::F32);
}

// A parameter vector with its optimiser state, on one device.
struct State {
  Tensor p, m, v;
};

State on_device(const State& s, Device d) { return {s.p.to(d).clone(), s.m.to(d).clone(), s.v.to(d).clone()}; }

// Runs kSteps steps from `start` on `dev` with grads[k] at step k; step(state, grad, k) does one update.
template <class Step>
State run_steps(const State& start, const std::vector<Tensor>& grads, Device dev, const Step& step) {
  State s = on_device(start, dev);
  PoisonGuard poison;  // nothing is allocated by a step, but a stray temporary would read as NaN
  for (int k = 0; k < kSteps; ++k) step(s, grads[size_t(k)].to(dev), k);
  return s;
}

template <class Step>
void check_steps(const std::string& what, int64_t n, Rng& rng, const Tolerance& tol, const Step& step) {
  INFO(what << " over " << n << " parameters");
  // Optimisers start from zero state.
  State start{f32(n, rng), Tensor::zeros({n}), Tensor::zeros({n})};
  std::vector<Tensor> grads;
  for (int k = 0; k < kSteps; ++k) grads.push_back(f32(n, rng, -0.1, 0.1));
  State cpu = run_steps(start, grads, Device::CPU, step);
  State gpu = run_steps(start, grads, Device::CUDA, step);
  State again = run_steps(start, grads, Device::CUDA, step);
  check_matches_cpu(gpu.p, cpu.p, tol, what + ": parameters");
  check_matches_cpu(gpu.m, cpu.m, tol, what + ": first state buffer");
  check_matches_cpu(gpu.v, cpu.v, tol, what + ": second state buffer");
  check_same_bits(again.p, gpu.p, what + ": parameters of a second CUDA run");
}

kernels::AdamParams adam_params(double lr, double wd, bool decoupled, int step) {
  double b1 = 0.9, b2 = 0.999;
  return {lr, b1, b2, 1e-8, wd, decoupled, 1 - std::pow(b1, step + 1), 1 - std::pow(b2, step + 1)};
}
}  // namespace

TEST_CASE("cuda: sgd_step parity: plain, momentum, nesterov, weight decay") {
  if (skip_without_gpu()) return;
  struct Variant {
    const char* name;
    kernels::SgdParams h;
  };
  const Variant variants[] = {{"sgd", {0.1, 0.0, 0.0, false}},
                              {"sgd momentum", {0.1, 0.9, 0.0, false}},
                              {"sgd nesterov + weight decay", {0.05, 0.9, 1e-4, true}},
                              {"sgd weight decay, no momentum", {0.1, 0.0, 5e-4, false}}};
  Rng rng(500);
  for (const Variant& var : variants) {
    for (int64_t n : kSizes) {
      kernels::SgdParams h = var.h;
      check_steps(var.name, n, rng, kStep, [h](State& s, const Tensor& g, int) {
        // Without momentum the optimiser passes the gradient itself as the (unused) buffer.
        Tensor buf = h.momentum != 0 ? s.m : g;
        kernels::sgd_step(s.p, g, buf, h);
      });
    }
  }
}

TEST_CASE("cuda: adam_step parity: Adam with L2 decay and AdamW") {
  if (skip_without_gpu()) return;
  Rng rng(501);
  for (bool decoupled : {false, true}) {
    for (double wd : {0.0, 1e-2}) {
      for (int64_t n : kSizes) {
        std::string name = std::string(decoupled ? "adamw" : "adam") + " wd " + std::to_string(wd);
        check_steps(name, n, rng, kAdamStep, [=](State& s, const Tensor& g, int k) {
          kernels::adam_step(s.p, g, s.m, s.v, adam_params(1e-3, wd, decoupled, k));
        });
      }
    }
  }
}

TEST_CASE("cuda: sum_squares parity in f32 and f64, and bitwise repeatable") {
  if (skip_without_gpu()) return;
  Rng rng(502);
  for (DType dt : {DType::F32, DType::F64}) {
    for (int64_t n : {int64_t(0), int64_t(1), int64_t(1001), int64_t(3000017)}) {
      INFO(dtype_name(dt) << ", " << n << " elements");
      Tensor x = random_tensor({n}, rng, -1.0, 1.0, dt);
      Tensor cpu = Tensor::empty({}, dt);
      kernels::sum_squares(x, cpu);
      Tensor xg = x.to(Device::CUDA), gpu, again;
      {
        PoisonGuard poison;  // the 0-d result must be written even for an empty input
        gpu = Tensor::empty({}, dt, Device::CUDA);
        again = Tensor::empty({}, dt, Device::CUDA);
        kernels::sum_squares(xg, gpu);
        kernels::sum_squares(xg, again);
      }
      check_matches_cpu(gpu, cpu, dt == DType::F32 ? kSumF32 : Tolerance{0.0, 1e-10}, "sum of squares");
      check_same_bits(again, gpu, "sum of squares, second run");
    }
  }
}

TEST_CASE("cuda: scale_by parity with a device factor") {
  if (skip_without_gpu()) return;
  Rng rng(503);
  for (int64_t n : kSizes) {
    INFO(n << " elements");
    Tensor x = f32(n, rng);
    Tensor s = Tensor::full({}, 0.37, DType::F32);
    Tensor xg = x.to(Device::CUDA);
    kernels::scale_by(x, s);
    {
      PoisonGuard poison;
      kernels::scale_by(xg, s.to(Device::CUDA));
    }
    check_matches_cpu(xg, x, kBitwise, "scaled");  // one f32 product per element on both devices
  }
  Tensor xg = Tensor::zeros({4}, DType::F32, Device::CUDA);
  CHECK_THROWS_WITH_AS(kernels::scale_by(xg, Tensor::full({}, 2.0)), doctest::Contains("on the GPU"), Error);
}

TEST_CASE("cuda: Optimizer steps with gradient clipping match the CPU on a ParameterSet") {
  if (skip_without_gpu()) return;
  for (const char* type : {"sgd", "adam", "adamw"}) {
    INFO(type);
    Rng rng(504);
    std::vector<Tensor> params{random_tensor({3, 3, 5, 7}, rng, -1, 1, DType::F32),
                               random_tensor({7}, rng, -1, 1, DType::F32),
                               random_tensor({1}, rng, -1, 1, DType::F32)};
    std::vector<Tensor> grads;
    for (int k = 0; k < kSteps; ++k) grads.push_back(random_tensor({3 * 3 * 5 * 7 + 7 + 1}, rng, -2, 2, DType::F32));
    auto run = [&](Device dev) {
      std::vector<Tensor> own;
      for (const Tensor& p : params) own.push_back(p.clone());
      ParameterSet set(own);
      set.to(dev);
      OptimizerConfig cfg;
      cfg.type = type;
      Optimizer opt(set, cfg);
      std::vector<double> norms;
      for (int k = 0; k < kSteps; ++k) {
        set.flat_grads().copy_from(grads[size_t(k)]);
        norms.push_back(clip_grad_norm(set, 1.0));  // the gradients' norm is about 20: every step clips
        opt.step(1e-2);
      }
      return std::make_pair(set.flat_params().clone(), norms);
    };
    auto [cpu_p, cpu_norms] = run(Device::CPU);
    auto [gpu_p, gpu_norms] = run(Device::CUDA);
    check_matches_cpu(gpu_p, cpu_p, kAdamStep, std::string(type) + ": parameters after clipped steps");
    for (size_t k = 0; k < cpu_norms.size(); ++k) CHECK(gpu_norms[k] == doctest::Approx(cpu_norms[k]).epsilon(1e-6));
  }
}
