#include "model/distillation.h"

#include "core/ops.h"
#include "layers/activation_tap.h"
#include "model/tasks.h"

namespace mtinet {

MultiTaskDistillation::MultiTaskDistillation(const std::vector<std::string>& tasks,
                                             const std::vector<std::string>& auxiliary, int64_t channels, Rng& rng)
    : tasks_(tasks), auxiliary_(auxiliary) {
  auto self_attention = register_module("self_attention", std::make_shared<ModuleDict>());
  for (const std::string& t : tasks_) {
    auto per_task = self_attention->add(t, std::make_shared<ModuleDict>());
    for (const std::string& a : auxiliary_)
      if (a != t) blocks_[t][a] = per_task->add(a, std::make_shared<SABlock>(channels, channels, rng));
  }
}

std::map<std::string, Tensor> MultiTaskDistillation::forward(const std::map<std::string, Tensor>& features) {
  std::map<std::string, Tensor> out;
  for (const std::string& t : tasks_) {
    // Sum the other tasks' messages first (in auxiliary order), then add the task's own features, as the
    // reference's F_t + sum(stack(messages)) does.
    Tensor messages;
    for (const std::string& a : auxiliary_) {
      if (a == t) continue;
      tap::Scope scope("self_attention." + t + "." + a);  // the block's state_dict path
      Tensor m = blocks_[t][a]->forward(feature_of(features, a, "MultiTaskDistillation"));
      messages = messages.defined() ? ops::add(messages, m) : m;
    }
    const Tensor& own = feature_of(features, t, "MultiTaskDistillation");
    out[t] = messages.defined() ? ops::add(own, messages) : own;
  }
  return out;
}

}  // namespace mtinet
