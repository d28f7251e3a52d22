// Multi-modal distillation (PAD-Net, reused by MTI-Net at every scale; docs/architecture.md): each main task t
// receives the features of every other auxiliary task a, gated by its own spatial-attention block:
// D_t = F_t + sum_{a != t} SA_{t,a}(F_a).
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/rng.h"
#include "layers/attention.h"

namespace mtinet {

class MultiTaskDistillation : public Module {
 public:
  // Children self_attention.<t>.<a> for t in `tasks`, a in `auxiliary` (reference order), a != t.
  MultiTaskDistillation(const std::vector<std::string>& tasks, const std::vector<std::string>& auxiliary,
                        int64_t channels, Rng& rng);
  // features: one map per auxiliary task; returns one map per main task.
  std::map<std::string, Tensor> forward(const std::map<std::string, Tensor>& features);

 private:
  std::vector<std::string> tasks_, auxiliary_;
  std::map<std::string, std::map<std::string, std::shared_ptr<SABlock>>> blocks_;  // [t][a]
};

}  // namespace mtinet
