// Tiny end-to-end training runs for tests: a 10-image synthetic dataset, a small MTI-Net config, the step records
// of a run's metrics.jsonl, and the log-variances uncertainty weighting must reach, computed by hand from them.
#pragma once
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "scratch.h"
#include "train/config.h"
#include "train/trainer.h"

namespace mtinet::test {

inline std::string tiny_synthetic_dataset() {
  static std::string root;
  if (!root.empty()) return root;
  root = synthetic_dataset("mtinet_train_synth", 10, 64, 3, 0.2);
  return root;
}

// 2 epochs of 4 steps (8 training images, batch 2), Adam, a checkpoint every epoch, evaluation only at the end.
inline TrainConfig tiny_config(const std::string& run_dir, const std::string& device = "cpu",
                               const nlohmann::json& loss = {{"method", "fixed"}}) {
  nlohmann::json j = {
      {"model", {{"model", "mtinet"}, {"tasks", "nyud"}, {"seed", 5}}},
      {"data", {{"root", tiny_synthetic_dataset()}, {"size", {64, 64}}, {"threads", 2}, {"scales", {1.0, 1.2}}}},
      {"optimizer", {{"type", "adam"}, {"lr", 1e-3}}},
      {"loss", loss},
      {"checkpoint", {{"dir", run_dir}, {"every_epochs", 1}, {"keep_last", 5}}},
      {"epochs", 2},
      {"batch_size", 2},
      {"eval_every", 0},
      {"device", device},
  };
  return parse_train_config(j);
}

// Every line of a run's metrics.jsonl, in order.
inline std::vector<nlohmann::json> metrics_lines(const std::string& run_dir) {
  std::ifstream in(run_dir + "/metrics.jsonl");
  REQUIRE(in.good());
  std::vector<nlohmann::json> out;
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

// The per-step records (those with a "loss"), in order.
inline std::vector<nlohmann::json> step_records(const std::string& run_dir) {
  std::vector<nlohmann::json> out;
  for (const nlohmann::json& j : metrics_lines(run_dir))
    if (j.contains("loss")) out.push_back(j);
  return out;
}

// Uncertainty weighting's log-variances after the logged steps, by hand in f64 from the logged task losses L_t:
// s_t starts at 0, d total / d s_t = 1 - exp(-s_t) L_t (total = sum_t exp(-s_t) L_t + s_t), and each step is
// PyTorch's SGD (momentum, nesterov, L2 weight decay) or Adam (L2 weight decay), as torch.optim documents them.
// Also checks, step by step, that the logged weights are exp(-s_t) of the values before the step.
inline std::map<std::string, double> hand_trained_log_vars(const std::vector<nlohmann::json>& steps,
                                                           const OptimizerConfig& o) {
  REQUIRE((o.type == "sgd" || o.type == "adam"));
  std::map<std::string, double> s, m, v;  // m: SGD's momentum buffer or Adam's first moment
  int64_t t = 0;
  for (const nlohmann::json& rec : steps) {
    ++t;
    REQUIRE(rec.at("step").get<int64_t>() == t);
    double lr = rec.at("lr").get<double>();
    for (const auto& item : rec.at("tasks").items()) {
      const std::string& task = item.key();
      double& st = s[task];  // 0 at first
      INFO("step " << t << ", task " << task);
      CHECK(rec.at("weights").at(task).get<double>() == doctest::Approx(std::exp(-st)).epsilon(1e-6));
      double g = 1.0 - std::exp(-st) * item.value().get<double>() + o.weight_decay * st;
      if (o.type == "sgd") {
        if (o.momentum != 0) {
          m[task] = t == 1 ? g : o.momentum * m[task] + g;
          g = o.nesterov ? g + o.momentum * m[task] : m[task];
        }
        st -= lr * g;
        continue;
      }
      m[task] = o.beta1 * m[task] + (1 - o.beta1) * g;
      v[task] = o.beta2 * v[task] + (1 - o.beta2) * g * g;
      double m_hat = m[task] / (1 - std::pow(o.beta1, double(t)));
      double v_hat = v[task] / (1 - std::pow(o.beta2, double(t)));
      st -= lr * m_hat / (std::sqrt(v_hat) + o.eps);
    }
  }
  return s;
}

// |actual - expected| <= atol + rtol |expected|, reported with both values.
inline void check_near(double actual, double expected, double atol, double rtol, const std::string& what) {
  INFO(what << ": got " << actual << ", expected " << expected);
  CHECK(std::abs(actual - expected) <= atol + rtol * std::abs(expected));
}

// Issue 14: the trainer packed copies of the log-variances, so the optimiser updated tensors combine() never read.
// Trains uncertainty weighting for 3 SGD steps on `device` in run folder `name` and checks that the balancer's own
// tensors are the ParameterSet's last parameters, views of its flat buffer on that device, and hold what SGD with
// momentum makes of the logged losses (SGD, not Adam: Adam's first steps are about lr whatever the gradient, SGD's
// are proportional to it). `lag` is the loss readback lag the trainer must choose for the device.
inline void check_uncertainty_trains_own_log_vars(const std::string& name, const std::string& device, int64_t lag,
                                                  double atol) {
  std::string dir = fresh_dir(name);
  TrainConfig cfg = tiny_config(dir, device, {{"method", "uncertainty"}});
  cfg.optimizer.type = "sgd";
  cfg.optimizer.lr = 1e-2;
  cfg.max_steps = 3;
  Trainer t(cfg);
  CHECK(t.loss_readback_lag() == lag);
  t.run();
  std::vector<Tensor> log_vars = t.balancer().parameters();
  const std::vector<std::string>& tasks = t.balancer().tasks();
  REQUIRE(log_vars.size() == tasks.size());
  const std::vector<Tensor>& packed = t.parameters().params();
  REQUIRE(packed.size() > log_vars.size());
  std::vector<nlohmann::json> steps = step_records(dir);
  REQUIRE(steps.size() == 3);
  // The losses come from the device's forward passes; given them, the log-variances follow by hand.
  std::map<std::string, double> expected = hand_trained_log_vars(steps, cfg.optimizer);
  for (size_t i = 0; i < log_vars.size(); ++i) {
    CAPTURE(tasks[i]);
    CHECK(log_vars[i].device() == parse_device(device));
    CHECK(log_vars[i].same(packed[packed.size() - log_vars.size() + i]));
    CHECK(log_vars[i].impl().storage == t.parameters().flat_params().impl().storage);
    CHECK(std::abs(expected.at(tasks[i])) > 1e-3);  // they moved
    check_near(log_vars[i].item(), expected.at(tasks[i]), atol, 1e-5, "log-variance of " + tasks[i]);
  }
}

}  // namespace mtinet::test
