// Uncertainty weighting and loss logging on CUDA (issue 14). The log-variances moved to the GPU, before or after
// packing, must be the very tensors the optimiser steps, and three steps must match the same steps on the CPU; the
// trainer must train them on the GPU (it used to pack CUDA copies, and combine() threw on seeing CPU log-variances);
// a HostReadback must return the value as of its start while later work is queued; and losses read back one step
// late must log exactly what immediate reads log. Without a GPU these report skipped.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/ops.h"
#include "core/parameter_set.h"
#include "core/readback.h"
#include "cuda_parity.h"
#include "tiny_training.h"
#include "train/loss_balancing.h"
#include "train/optimizer.h"
#include "train/trainer.h"

#ifdef MTINET_WITH_CUDA
#include "core/cuda_runtime.h"
#endif

using namespace mtinet;
using namespace mtinet::test;

namespace {

// A few f32 flops per step; the device may contract a multiply-add into an FMA.
constexpr Tolerance kSteps{1e-6, 1e-5};

Tensor f32(double v, Device d) { return Tensor::full({}, v, DType::F32, d); }

struct Trained {
  Tensor flat;                           // [w, s_a, s_b] after the steps, on the CPU
  std::vector<double> weights_a;         // exp(-s_a) as combine() used it, step by step
};

// Three SGD-with-momentum steps of L_a = 8 w, L_b = 0.5 weighted by uncertainty, in f32 on `dev`. The balancer is
// moved before packing (as the trainer does) or packed on the CPU and moved with its ParameterSet afterwards.
Trained train_on(Device dev, bool move_before_packing) {
  UncertaintyBalancer unc({"a", "b"}, DType::F32);
  std::vector<Tensor> handles = unc.parameters();
  Tensor w = f32(0.5, Device::CPU);
  if (move_before_packing) {
    unc.to(dev);
    w = w.to(dev);
  }
  std::vector<Tensor> packed{w};
  for (const Tensor& s : unc.parameters()) packed.push_back(s);
  ParameterSet params(packed);
  params.to(dev);
  for (size_t i = 0; i < handles.size(); ++i) {
    CAPTURE(i);
    CHECK(unc.parameters()[i].same(handles[i]));
    CHECK(params.params()[1 + i].same(handles[i]));
    CHECK(handles[i].device() == dev);
    CHECK(handles[i].impl().storage == params.flat_params().impl().storage);
  }
  OptimizerConfig cfg;
  cfg.type = "sgd";
  cfg.momentum = 0.9;
  cfg.weight_decay = 1e-3;
  Optimizer opt(params, cfg);
  Trained out;
  for (int step = 0; step < 3; ++step) {
    Tensor total = unc.combine({{"a", ops::scale(w, 8.0)}, {"b", f32(0.5, dev)}}, step, 0);
    out.weights_a.push_back(unc.weights().at("a"));
    params.zero_grad();
    total.backward();
    CHECK(handles[0].grad().device() == dev);
    opt.step(0.1);
  }
  out.flat = params.flat_params().to(Device::CPU).clone();
  // The balancer reads what the optimiser wrote: its checkpoint state, and its next weight.
  CHECK(unc.state()[0].second.item() == handles[0].item());
  return out;
}

#ifdef MTINET_WITH_CUDA
#endif

}  // namespace

TEST_CASE("cuda: uncertainty log-variances moved to the GPU are the optimiser's own tensors and train as on the CPU") {
  if (skip_without_gpu()) return;
  Trained cpu = train_on(Device::CPU, true);
  for (bool before : {true, false}) {
    INFO((before ? "moved before packing" : "packed, then moved with the ParameterSet"));
    Trained gpu = train_on(Device::CUDA, before);
    check_matches_cpu(gpu.flat.to(Device::CUDA), cpu.flat, kSteps, "w, s_a, s_b after three steps");
    REQUIRE(gpu.weights_a.size() == cpu.weights_a.size());
    for (size_t k = 0; k < cpu.weights_a.size(); ++k) CHECK(gpu.weights_a[k] == doctest::Approx(cpu.weights_a[k]));
  }
  CHECK(cpu.flat.to_double_vector()[1] != 0.0);  // the steps moved s_a
}

TEST_CASE("cuda: HostReadback returns the value as of start(), not that of work queued after it") {
  if (skip_without_gpu()) return;
  Tensor x = Tensor::from_vector<float>({3}, {1, 2, 3}, Device::CUDA);
  HostReadback r;
  r.start(x);
  CHECK(r.pending());
  x.copy_from(Tensor::from_vector<float>({3}, {7, 8, 9}));  // queued after the readback's copy
  Tensor h = r.wait();
  CHECK_FALSE(r.pending());
  CHECK(h.device() == Device::CPU);
  CHECK(h.dtype() == DType::F32);
  CHECK(h.shape() == Shape{3});
  CHECK(h.to_double_vector() == std::vector<double>{1, 2, 3});
  // Reused, and grown for a bigger tensor.
  r.start(x);
  CHECK(r.wait().to_double_vector() == std::vector<double>{7, 8, 9});
  Tensor big = Tensor::full({1000}, 2.5, DType::F32, Device::CUDA);
  r.start(x);
  r.start(big);  // the first copy is collected and dropped
  std::vector<double> v = r.wait().to_double_vector();
  REQUIRE(v.size() == 1000);
  CHECK(v.front() == 2.5);
  CHECK(v.back() == 2.5);
  CHECK_THROWS_WITH_AS(r.wait(), doctest::Contains("without a copy started"), Error);
}

TEST_CASE("cuda: the trainer trains uncertainty weighting's own log-variances on the GPU") {
  if (skip_without_gpu()) return;
  // Lag 1: the GPU's default, so no step waits for a loss read.
  check_uncertainty_trains_own_log_vars("mtinet_cuda_run_uncertainty", "cuda", /*lag=*/1, /*atol=*/1e-6);
}

TEST_CASE("cuda: losses read back one step late log exactly what immediate reads log") {
  if (skip_without_gpu()) return;
#ifdef MTINET_WITH_CUDA
  // Deterministic cuDNN algorithms whatever the environment says: the two runs must agree bit for bit.
  SwitchGuard deterministic(cuda::deterministic, cuda::set_deterministic, true);
#endif
  auto run = [](int64_t lag) {
    std::string dir = fresh_dir("mtinet_cuda_run_lag" + std::to_string(lag));
    TrainConfig cfg = tiny_config(dir, "cuda");
    cfg.max_steps = 6;  // through the first epoch's end into the second
    Trainer t(cfg);
    t.set_loss_readback_lag(lag);
    TrainSummary s = t.run();
    std::vector<nlohmann::json> steps = step_records(dir);
    for (nlohmann::json& j : steps) j.erase("images_per_s");
    return std::make_pair(s.losses, steps);
  };
  auto [at_once_losses, at_once_steps] = run(0);
  auto [late_losses, late_steps] = run(1);
  REQUIRE(at_once_losses.size() == 6);
  CHECK(late_losses == at_once_losses);
  REQUIRE(late_steps.size() == at_once_steps.size());
  for (size_t i = 0; i < late_steps.size(); ++i) {
    CAPTURE(i);
    CHECK(late_steps[i] == at_once_steps[i]);
  }
}
