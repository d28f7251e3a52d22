// The LossBalancer base (checking the losses, the weighted sum, state look-up) and the config factory.
#include "train/loss_balancing.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <nlohmann/json.hpp>

#include "core/ops.h"
#include "core/strings.h"

namespace mtinet {

namespace {

}  // namespace

LossBalancer::LossBalancer(std::vector<std::string> tasks) : tasks_(std::move(tasks)) {
  MTINET_CHECK(!tasks_.empty(), "loss balancing needs at least one task");
  std::set<std::string> seen;
  for (const std::string& t : tasks_) {
    MTINET_CHECK(seen.insert(t).second, "loss balancing: task '", t, "' is listed twice");
  }
}

std::vector<Tensor> LossBalancer::ordered_losses(const std::map<std::string, Tensor>& task_losses) const {
  for (const auto& entry : task_losses) {
    MTINET_CHECK(std::find(tasks_.begin(), tasks_.end(), entry.first) != tasks_.end(), "loss balancing (", method(),
                 "): got a loss for '", entry.first, "', which is not one of the tasks (", join(tasks_, ", "), ")");
  }
  std::vector<Tensor> out;
  for (const std::string& t : tasks_) {
    auto it = task_losses.find(t);
    MTINET_CHECK(it != task_losses.end(), "loss balancing (", method(), "): no loss for task '", t, "'");
    const Tensor& loss = it->second;
    MTINET_CHECK(loss.defined(), "loss balancing (", method(), "): the loss of task '", t, "' is undefined");
    MTINET_CHECK(loss.ndim() == 0 && is_floating(loss.dtype()), "loss balancing (", method(), "): the loss of task '",
                 t, "' must be a 0-d floating tensor, got ", loss.describe());
    if (!out.empty()) {
      MTINET_CHECK(loss.dtype() == out[0].dtype() && loss.device() == out[0].device(), "loss balancing (", method(),
                   "): the loss of task '", t, "' (", loss.describe(), ") differs in dtype or device from that of '",
                   tasks_[0], "' (", out[0].describe(), ")");
    }
    out.push_back(loss);
  }
  return out;
}

Tensor LossBalancer::weighted_sum(const std::vector<Tensor>& losses, const std::vector<double>& weights) {
  Tensor total = ops::scale(losses[0], weights[0]);
  for (size_t i = 1; i < losses.size(); ++i) total = ops::add(total, ops::scale(losses[i], weights[i]));
  return total;
}

std::map<std::string, double> LossBalancer::by_task(const std::vector<double>& values) const {
  std::map<std::string, double> out;
  for (size_t i = 0; i < tasks_.size(); ++i) out[tasks_[i]] = values[i];
  return out;
}

const Tensor& LossBalancer::state_entry(const NamedTensors& named, const std::string& name) {
  for (const auto& entry : named) {
    if (entry.first == name) return entry.second;
  }
  MTINET_FAIL("loss balancing state has no '", name, "'");
}

// ---- the config factory ----

namespace {

using nlohmann::json;

// The keys each method accepts.
const std::map<std::string, std::set<std::string>>& method_keys() {
  static const std::map<std::string, std::set<std::string>> keys = {
      {"fixed", {"method", "weights"}},
      {"uncertainty", {"method"}},
      {"dwa", {"method", "temperature"}},
      {"gradnorm", {"method", "alpha", "lr", "optimizer"}},
  };
  return keys;
}

void check_keys(const json& cfg, const std::string& method) {
  const std::set<std::string>& allowed = method_keys().at(method);
  for (const auto& item : cfg.items()) {
    if (allowed.count(item.key())) continue;
    for (const auto& [other, keys] : method_keys()) {
      MTINET_CHECK(!keys.count(item.key()), "loss_balancing: key '", item.key(), "' belongs to method '", other,
                   "', not '", method, "'");
    }
    MTINET_FAIL("loss_balancing: unknown key '", item.key(), "'");
  }
}

// cfg[key] as a number (def when absent) that satisfies ok, else an error saying what was expected.
template <class Ok>
double number(const json& cfg, const char* key, double def, Ok ok, const char* expected) {
  if (!cfg.contains(key)) return def;
  const json& v = cfg.at(key);
  MTINET_CHECK(v.is_number() && std::isfinite(v.get<double>()) && ok(v.get<double>()), "loss_balancing: '", key,
               "' must be ", expected, ", got ", v.dump());
  return v.get<double>();
}

std::vector<double> fixed_weights(const json& cfg, const std::vector<std::string>& tasks) {
  if (!cfg.contains("weights")) return std::vector<double>(tasks.size(), 1.0);
  const json& w = cfg.at("weights");
  MTINET_CHECK(w.is_object(), "loss_balancing: 'weights' must be an object {task: weight}, got ", w.dump());
  for (const auto& item : w.items()) {
    MTINET_CHECK(std::find(tasks.begin(), tasks.end(), item.key()) != tasks.end(), "loss_balancing: weight for '",
                 item.key(), "', which is not a task (tasks: ", join(tasks, ", "), ")");
  }
  std::vector<double> out;
  for (const std::string& t : tasks) {
    MTINET_CHECK(w.contains(t), "loss_balancing: 'weights' has no weight for task '", t, "'");
    const json& v = w.at(t);
    MTINET_CHECK(v.is_number() && std::isfinite(v.get<double>()) && v.get<double>() >= 0,
                 "loss_balancing: the weight of task '", t, "' must be a number >= 0, got ", v.dump());
    out.push_back(v.get<double>());
  }
  return out;
}

}  // namespace

std::unique_ptr<LossBalancer> make_balancer(const json& cfg, const std::vector<std::string>& tasks, DType dtype) {
  MTINET_CHECK(cfg.is_object(), "loss_balancing: expected an object, got ", cfg.dump());
  MTINET_CHECK(cfg.contains("method") && cfg.at("method").is_string(),
               "loss_balancing: 'method' must be one of \"fixed\", \"uncertainty\", \"dwa\", \"gradnorm\"");
  std::string method = cfg.at("method").get<std::string>();
  MTINET_CHECK(method_keys().count(method), "loss_balancing: unknown method '", method,
               "' (expected fixed, uncertainty, dwa or gradnorm)");
  check_keys(cfg, method);
  auto positive = [](double x) { return x > 0; };
  if (method == "fixed") return std::make_unique<FixedWeightsBalancer>(tasks, fixed_weights(cfg, tasks));
  if (method == "uncertainty") return std::make_unique<UncertaintyBalancer>(tasks, dtype);
  if (method == "dwa") {
    return std::make_unique<DwaBalancer>(tasks, number(cfg, "temperature", 2.0, positive, "a number > 0"));
  }
  double alpha = number(cfg, "alpha", 1.5, [](double x) { return x >= 0; }, "a number >= 0");
  double lr = number(cfg, "lr", 0.025, positive, "a number > 0");
  GradNormBalancer::Optimiser optimiser = GradNormBalancer::Optimiser::Adam;
  if (cfg.contains("optimizer")) {
    const json& o = cfg.at("optimizer");
    MTINET_CHECK(o.is_string() && (o == "adam" || o == "sgd"),
                 "loss_balancing: 'optimizer' must be \"adam\" or \"sgd\", got ", o.dump());
    if (o == "sgd") optimiser = GradNormBalancer::Optimiser::Sgd;
  }
  return std::make_unique<GradNormBalancer>(tasks, alpha, lr, optimiser);
}

}  // namespace mtinet
