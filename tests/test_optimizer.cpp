// Optimisers against two steps of torch.optim in f64, schedules and clipping against hand-computed values.
#include "train/optimizer.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::test;

namespace {
void check_two_steps(const std::string& name, const OptimizerConfig& cfg, DType dtype, double atol, double rtol) {
  INFO(name << " " << dtype_name(dtype));
  SafetensorsContents f = load_fixture("optimizer.safetensors");
  Tensor p = f.at("p0").to(dtype);
  ParameterSet set({p});
  Optimizer opt(set, cfg);
  for (int step = 1; step <= 2; ++step) {
    set.flat_grads().copy_from(f.at(step == 1 ? "g1" : "g2").to(dtype));
    opt.step(cfg.lr);
    check_close(set.flat_params(), f.at(name + ".step" + std::to_string(step)), atol, rtol, "after step " + std::to_string(step));
  }
}

OptimizerConfig sgd(double lr, double momentum, double wd, bool nesterov) {
  OptimizerConfig c;
  c.type = "sgd";
  c.lr = lr;
  c.momentum = momentum;
  c.weight_decay = wd;
  c.nesterov = nesterov;
  return c;
}

OptimizerConfig adam(const std::string& type, double lr, double wd) {
  OptimizerConfig c;
  c.type = type;
  c.lr = lr;
  c.weight_decay = wd;
  return c;
}
}  // namespace

TEST_CASE("optimisers match torch.optim over two steps") {
  for (DType dt : {DType::F64, DType::F32}) {
    double atol = dt == DType::F64 ? 1e-14 : 1e-6, rtol = dt == DType::F64 ? 1e-12 : 1e-5;
    check_two_steps("sgd", sgd(0.1, 0.0, 0.0, false), dt, atol, rtol);
    check_two_steps("sgd_momentum_wd", sgd(0.05, 0.9, 1e-2, false), dt, atol, rtol);
    check_two_steps("sgd_nesterov", sgd(0.05, 0.9, 1e-3, true), dt, atol, rtol);
    check_two_steps("adam_l2", adam("adam", 1e-2, 1e-1), dt, atol, rtol);
    check_two_steps("adamw", adam("adamw", 1e-2, 1e-1), dt, atol, rtol);
  }
}

TEST_CASE("optimiser state round trip continues identically") {
  SafetensorsContents f = load_fixture("optimizer.safetensors");
  Tensor p = f.at("p0").clone();
  ParameterSet set({p});
  Optimizer opt(set, adam("adam", 1e-2, 1e-1));
  set.flat_grads().copy_from(f.at("g1"));
  opt.step(1e-2);
  auto state = opt.state();
  // A fresh optimiser restored from the state takes the same second step.
  Tensor q = set.flat_params().clone();
  ParameterSet set2({q});
  Optimizer opt2(set2, adam("adam", 1e-2, 1e-1));
  opt2.load_state(state);
  CHECK(opt2.steps_taken() == 1);
  set.flat_grads().copy_from(f.at("g2"));
  set2.flat_grads().copy_from(f.at("g2"));
  opt.step(1e-2);
  opt2.step(1e-2);
  CHECK(set.flat_params().to_double_vector() == set2.flat_params().to_double_vector());
  CHECK_THROWS_AS(Optimizer(set, adam("lamb", 1, 0)), Error);
  // A state missing one of Adam's moments is refused, not resumed with zeros in its place.
  for (const char* dropped : {"optimizer.buf1", "optimizer.buf2"}) {
    CAPTURE(dropped);
    std::vector<std::pair<std::string, Tensor>> partial;
    for (const auto& e : state)
      if (e.first != dropped) partial.push_back(e);
    Optimizer opt3(set2, adam("adam", 1e-2, 1e-1));
    CHECK(error_message([&] { opt3.load_state(partial); })
              .find(std::string("optimizer state has no '") + dropped + "', which this adam optimizer keeps") !=
          std::string::npos);
  }
}

TEST_CASE("poly schedule per epoch and per iteration, with warm-up") {
  ScheduleConfig s;
  CHECK(scheduled_lr(s, 1e-4, 0, 100, 0, 1000) == doctest::Approx(1e-4));
  CHECK(scheduled_lr(s, 1e-4, 50, 100, 555, 1000) == doctest::Approx(1e-4 * std::pow(0.5, 0.9)));
  s.per_iteration = true;
  CHECK(scheduled_lr(s, 1e-4, 50, 100, 250, 1000) == doctest::Approx(1e-4 * std::pow(0.75, 0.9)));
  s.warmup_iters = 10;
  CHECK(scheduled_lr(s, 1.0, 0, 100, 4, 1000) == doctest::Approx(0.5 * std::pow(1 - 0.004, 0.9)));
  s.kind = "cosine";
  CHECK_THROWS_AS(scheduled_lr(s, 1.0, 0, 1, 0, 1), Error);
}

TEST_CASE("clip_grad_norm scales gradients to the max norm") {
  Tensor p = Tensor::zeros({4}, DType::F64);
  ParameterSet set({p});
  set.flat_grads().copy_from(Tensor::from_vector<double>({4}, {3, 0, 4, 0}));
  CHECK(clip_grad_norm(set, 10.0) == doctest::Approx(5.0));
  CHECK(set.flat_grads().to_double_vector() == std::vector<double>{3, 0, 4, 0});  // under the limit: untouched
  CHECK(clip_grad_norm(set, 1.0) == doctest::Approx(5.0));
  std::vector<double> g = set.flat_grads().to_double_vector();
  CHECK(g[0] == doctest::Approx(3.0 / (5.0 + 1e-6)));
  CHECK(g[2] == doctest::Approx(4.0 / (5.0 + 1e-6)));
}
