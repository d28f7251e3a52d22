// Dynamic Weight Average (Liu, Johns & Davison, CVPR 2019): weights from how fast each task's loss fell over the
// last two epochs, w_k = K exp(r_k / T) / sum_i exp(r_i / T), r_k = Lbar_k(e-1) / Lbar_k(e-2).
#include <algorithm>
#include <cmath>

#include "kernels/elementwise/elementwise.h"
#include "train/loss_balancing.h"

namespace mtinet {

DwaBalancer::DwaBalancer(std::vector<std::string> tasks, double temperature)
    : LossBalancer(std::move(tasks)),
      temperature_(temperature),
      sums_(this->tasks().size()),
      carried_sums_(this->tasks().size(), 0.0),
      weights_(this->tasks().size(), 1.0) {
  MTINET_CHECK(temperature_ > 0 && std::isfinite(temperature_), "dwa: the temperature must be > 0, got ",
               temperature_);
}

Tensor DwaBalancer::combine(const std::map<std::string, Tensor>& task_losses, int64_t, int64_t epoch) {
  std::vector<Tensor> losses = ordered_losses(task_losses);
  if (epoch != epoch_) {
    MTINET_CHECK(epoch > epoch_, "dwa: epoch went back from ", epoch_, " to ", epoch);
    close_epoch();
    epoch_ = epoch;
    update_weights();
  }
  Tensor total = weighted_sum(losses, weights_);
  // The epoch means are summed on the losses' device, so a step needs no host synchronisation.
  for (size_t t = 0; t < losses.size(); ++t) {
    if (sums_[t].defined()) {
      kernels::add_inplace(sums_[t], losses[t].detach());
    } else {
      sums_[t] = losses[t].detach().clone();
    }
  }
  ++steps_in_epoch_;
  return total;
}

std::vector<double> DwaBalancer::epoch_sums() const {
  std::vector<double> out = carried_sums_;
  for (size_t t = 0; t < out.size(); ++t) {
    if (sums_[t].defined()) out[t] += sums_[t].item();
  }
  return out;
}

void DwaBalancer::close_epoch() {
  if (steps_in_epoch_ > 0) {
    std::vector<double> means = epoch_sums();
    for (double& m : means) m /= double(steps_in_epoch_);
    history_.insert(history_.begin(), means);
    if (history_.size() > 2) history_.pop_back();
  }
  steps_in_epoch_ = 0;
  std::fill(sums_.begin(), sums_.end(), Tensor());
  std::fill(carried_sums_.begin(), carried_sums_.end(), 0.0);
}

void DwaBalancer::update_weights() {
  size_t k = tasks().size();
  if (history_.size() < 2) {
    weights_.assign(k, 1.0);
    return;
  }
  std::vector<double> x(k);
  for (size_t t = 0; t < k; ++t) {
    double newer = history_[0][t], older = history_[1][t];
    MTINET_CHECK(older > 0 && std::isfinite(older) && std::isfinite(newer), "dwa: task '", tasks()[t],
                 "' has mean losses ", older, " then ", newer, " over the last two epochs; their ratio needs a "
                 "finite positive first one");
    x[t] = newer / older / temperature_;
  }
  // K softmax(x), shifted by the maximum so no exp overflows.
  double top = *std::max_element(x.begin(), x.end()), denom = 0;
  for (double v : x) denom += std::exp(v - top);
  for (size_t t = 0; t < k; ++t) weights_[t] = double(k) * std::exp(x[t] - top) / denom;
}

NamedTensors DwaBalancer::state() const {
  int64_t k = int64_t(tasks().size());
  // history rows: newest first; rows past history_size are NaN.
  std::vector<double> history(size_t(2 * k), std::nan(""));
  for (size_t h = 0; h < history_.size(); ++h) {
    std::copy(history_[h].begin(), history_[h].end(), history.begin() + int64_t(h) * k);
  }
  return {
      {"balancer.dwa.epoch", Tensor::from_vector<int64_t>({}, {epoch_})},
      {"balancer.dwa.steps_in_epoch", Tensor::from_vector<int64_t>({}, {steps_in_epoch_})},
      {"balancer.dwa.epoch_sums", Tensor::from_vector<double>({k}, epoch_sums())},
      {"balancer.dwa.history_size", Tensor::from_vector<int64_t>({}, {int64_t(history_.size())})},
      {"balancer.dwa.history", Tensor::from_vector<double>({2, k}, history)},
  };
}

void DwaBalancer::load_state(const NamedTensors& named) {
  int64_t k = int64_t(tasks().size());
  const Tensor& sums = state_entry(named, "balancer.dwa.epoch_sums");
  const Tensor& history = state_entry(named, "balancer.dwa.history");
  MTINET_CHECK(sums.shape() == Shape{k}, "loss balancing state 'balancer.dwa.epoch_sums' ", sums.describe(),
               " does not fit ", k, " tasks");
  MTINET_CHECK(history.shape() == (Shape{2, k}), "loss balancing state 'balancer.dwa.history' ",
               history.describe(), " does not fit ", k, " tasks");
  int64_t history_size = int64_t(state_entry(named, "balancer.dwa.history_size").item());
  MTINET_CHECK(history_size >= 0 && history_size <= 2, "loss balancing state 'balancer.dwa.history_size' is ",
               history_size);
  epoch_ = int64_t(state_entry(named, "balancer.dwa.epoch").item());
  steps_in_epoch_ = int64_t(state_entry(named, "balancer.dwa.steps_in_epoch").item());
  carried_sums_ = sums.to_double_vector();
  std::fill(sums_.begin(), sums_.end(), Tensor());
  std::vector<double> h = history.to_double_vector();
  history_.clear();
  for (int64_t r = 0; r < history_size; ++r) history_.emplace_back(h.begin() + r * k, h.begin() + (r + 1) * k);
  update_weights();
}

}  // namespace mtinet
