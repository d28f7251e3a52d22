#include "model/feature_propagation.h"

#include "core/ops.h"
#include "layers/activation_tap.h"
#include "model/tasks.h"

namespace mtinet {

FeaturePropagation::FeaturePropagation(const std::vector<std::string>& auxiliary, int64_t channels, Rng& rng,
                                       FpmGrouping grouping)
    : grouping_(grouping), tasks_(auxiliary) {
  const int64_t shared = int64_t(auxiliary.size()) * channels;
  MTINET_CHECK(shared / 4 > 0, "FeaturePropagation: ", auxiliary.size(), " tasks x ", channels,
               " channels is too small");
  non_linear_ = register_module("non_linear", std::make_shared<Sequential>());
  non_linear_->push_back(std::make_shared<BasicBlock>(shared, shared / 4, rng));
  non_linear_->push_back(std::make_shared<BasicBlock>(shared / 4, shared / 4, rng));
  non_linear_->push_back(std::make_shared<Conv2d>(Conv2dSpec{shared / 4, shared, 1, 1, 0, 1, true}, rng));
  dimensionality_reduction_ =
      register_module("dimensionality_reduction", std::make_shared<BasicBlock>(shared, channels, rng));
  auto se = register_module("se", std::make_shared<ModuleDict>());
  for (const std::string& t : tasks_) se_[t] = se->add(t, std::make_shared<SEBlock>(channels, rng));
}

std::map<std::string, Tensor> FeaturePropagation::forward(const std::map<std::string, Tensor>& features) {
  std::vector<Tensor> parts;
  for (const std::string& t : tasks_) parts.push_back(feature_of(features, t, "FeaturePropagation"));
  Tensor concat = ops::concat_channels(parts);  // task-major: channel n*C + c is task n's channel c
  const int64_t n = int64_t(tasks_.size()), c = concat.dim(-1) / n;
  Tensor logits = non_linear_->forward(concat);
  Tensor mask;
  if (grouping_ == FpmGrouping::AdjacentChannels) {
    // The reference views the N*C channels as (C, N) and softmaxes over N: groups of N adjacent channels.
    mask = ops::grouped_softmax(logits, n);
  } else {
    // Bring the N copies of each channel together, softmax over them, and restore the task-major order.
    mask = ops::interleave_channels(ops::grouped_softmax(ops::interleave_channels(logits, n, c), n), c, n);
  }
  tap::record("mask", mask);  // task-major channels, for mtinet predict --explain
  Tensor shared = dimensionality_reduction_->forward(ops::mul(mask, concat));
  std::map<std::string, Tensor> out;
  for (const std::string& t : tasks_) out[t] = ops::add(se_[t]->forward(shared), features.at(t));
  return out;
}

}  // namespace mtinet
