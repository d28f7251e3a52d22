// GradNorm (Chen, Badrinarayanan, Lee & Rabinovich, ICML 2018): task weights learned so that the tasks' gradient
// norms at the last shared layer follow their relative training rates.
#include <algorithm>
#include <cmath>

#include "core/autograd.h"
#include "kernels/optimizer/optimizer.h"
#include "train/loss_balancing.h"

namespace mtinet {

namespace {

// Adam's constants for the weights' own optimiser (PyTorch's defaults, as the usual implementations use).
constexpr double kBeta1 = 0.9, kBeta2 = 0.999, kEps = 1e-8;

double l2_norm(const Tensor& g) {
  Tensor sq = Tensor::empty({}, g.dtype(), g.device());
  kernels::sum_squares(g, sq);
  return std::sqrt(sq.item());
}

}  // namespace

GradNormBalancer::GradNormBalancer(std::vector<std::string> tasks, double alpha, double lr, Optimiser optimiser)
    : LossBalancer(std::move(tasks)),
      alpha_(alpha),
      lr_(lr),
      optimiser_(optimiser),
      w_(this->tasks().size(), 1.0),
      applied_(w_),
      adam_m_(w_.size(), 0.0),
      adam_v_(w_.size(), 0.0) {
  MTINET_CHECK(alpha_ >= 0 && std::isfinite(alpha_), "gradnorm: alpha must be >= 0, got ", alpha_);
  MTINET_CHECK(lr_ > 0 && std::isfinite(lr_), "gradnorm: lr must be > 0, got ", lr_);
}

void GradNormBalancer::set_shared_weight(const Tensor& weight) {
  MTINET_CHECK(weight.defined() && weight.requires_grad(), "gradnorm: the shared weight must require grad");
  shared_weight_ = weight;
}

Tensor GradNormBalancer::combine(const std::map<std::string, Tensor>& task_losses, int64_t, int64_t) {
  std::vector<Tensor> losses = ordered_losses(task_losses);
  MTINET_CHECK(shared_weight_.defined(),
               "gradnorm: no shared weight; call set_shared_weight() with the last shared layer's weight");
  size_t k = losses.size();
  std::vector<double> values(k), norms(k);
  for (size_t i = 0; i < k; ++i) {
    const std::string& task = tasks()[i];
    MTINET_CHECK(losses[i].requires_grad(), "gradnorm: the loss of '", task, "' does not require grad");
    values[i] = losses[i].item();
    MTINET_CHECK(std::isfinite(values[i]), "gradnorm: the loss of '", task, "' is ", values[i]);
    try {
      // Retained: the trainer's backward of the total runs through the same graph.
      norms[i] = l2_norm(grad(losses[i], {shared_weight_}, /*retain_graph=*/true)[0]);
    } catch (const Error& e) {
      MTINET_FAIL("gradnorm: the gradient of the loss of '", task, "' at the shared weight: ", e.what());
    }
  }
  if (initial_losses_.empty()) {
    for (size_t i = 0; i < k; ++i) {
      MTINET_CHECK(values[i] > 0, "gradnorm: the first loss of '", tasks()[i], "' is ", values[i],
                   "; training rates L(t)/L(0) need it positive");
    }
    initial_losses_ = values;
  }

  Step s;
  s.grad_norms = norms;
  s.G.resize(k);
  s.targets.resize(k);
  s.weight_grads.resize(k);
  double g_mean = 0, rate_mean = 0;
  std::vector<double> rates(k);
  for (size_t i = 0; i < k; ++i) {
    s.G[i] = w_[i] * norms[i];
    g_mean += s.G[i] / double(k);
    rates[i] = values[i] / initial_losses_[i];
    rate_mean += rates[i] / double(k);
  }
  for (size_t i = 0; i < k; ++i) {
    s.targets[i] = g_mean * std::pow(rates[i] / rate_mean, alpha_);
    double diff = s.G[i] - s.targets[i];
    s.gradnorm_loss += std::abs(diff);
    // d|G_i - target_i|/dw_i with the target held constant, as the paper prescribes; sign(0) = 0.
    s.weight_grads[i] = double((diff > 0) - (diff < 0)) * norms[i];
  }

  applied_ = w_;
  Tensor total = weighted_sum(losses, applied_);
  update(s.weight_grads);
  last_ = s;
  return total;
}

void GradNormBalancer::update(const std::vector<double>& weight_grads) {
  size_t k = w_.size();
  if (optimiser_ == Optimiser::Adam) {
    ++adam_steps_;
    double c1 = 1 - std::pow(kBeta1, double(adam_steps_)), c2 = 1 - std::pow(kBeta2, double(adam_steps_));
    for (size_t i = 0; i < k; ++i) {
      adam_m_[i] = kBeta1 * adam_m_[i] + (1 - kBeta1) * weight_grads[i];
      adam_v_[i] = kBeta2 * adam_v_[i] + (1 - kBeta2) * weight_grads[i] * weight_grads[i];
      w_[i] -= lr_ * (adam_m_[i] / c1) / (std::sqrt(adam_v_[i] / c2) + kEps);
    }
  } else {
    for (size_t i = 0; i < k; ++i) w_[i] -= lr_ * weight_grads[i];
  }
  double total = 0;
  for (double& w : w_) {
    w = std::max(w, 0.0);
    total += w;
  }
  for (double& w : w_) w = total > 0 ? w * double(k) / total : 1.0;
}

NamedTensors GradNormBalancer::state() const {
  int64_t k = int64_t(w_.size());
  // NaN initial losses: saved before the first step, which will take them.
  std::vector<double> initial =
      initial_losses_.empty() ? std::vector<double>(w_.size(), std::nan("")) : initial_losses_;
  return {
      {"balancer.gradnorm.weights", Tensor::from_vector<double>({k}, w_)},
      {"balancer.gradnorm.initial_losses", Tensor::from_vector<double>({k}, initial)},
      {"balancer.gradnorm.adam_m", Tensor::from_vector<double>({k}, adam_m_)},
      {"balancer.gradnorm.adam_v", Tensor::from_vector<double>({k}, adam_v_)},
      {"balancer.gradnorm.adam_steps", Tensor::from_vector<int64_t>({}, {adam_steps_})},
  };
}

void GradNormBalancer::load_state(const NamedTensors& named) {
  int64_t k = int64_t(w_.size());
  auto vec = [&](const char* name) {
    const Tensor& t = state_entry(named, name);
    MTINET_CHECK(t.shape() == Shape{k}, "loss balancing state '", name, "' ", t.describe(), " does not fit ", k,
                 " tasks");
    return t.to_double_vector();
  };
  w_ = vec("balancer.gradnorm.weights");
  applied_ = w_;
  initial_losses_ = vec("balancer.gradnorm.initial_losses");
  if (std::isnan(initial_losses_[0])) initial_losses_.clear();  // saved before the first step
  adam_m_ = vec("balancer.gradnorm.adam_m");
  adam_v_ = vec("balancer.gradnorm.adam_v");
  adam_steps_ = int64_t(state_entry(named, "balancer.gradnorm.adam_steps").item());
}

}  // namespace mtinet
