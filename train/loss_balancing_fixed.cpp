// Fixed task weights: the reference's scheme.
#include "train/loss_balancing.h"

namespace mtinet {

FixedWeightsBalancer::FixedWeightsBalancer(std::vector<std::string> tasks, std::vector<double> weights)
    : LossBalancer(std::move(tasks)), weights_(std::move(weights)) {
  MTINET_CHECK(weights_.size() == this->tasks().size(), "fixed loss weights: ", weights_.size(), " weights for ",
               this->tasks().size(), " tasks");
}

Tensor FixedWeightsBalancer::combine(const std::map<std::string, Tensor>& task_losses, int64_t, int64_t) {
  return weighted_sum(ordered_losses(task_losses), weights_);
}

}  // namespace mtinet
