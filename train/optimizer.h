// Optimisers over a ParameterSet's flat buffers: SGD (momentum, nesterov, weight decay), Adam with L2 weight decay
// added to the gradient (the reference's torch.optim.Adam), and AdamW (decoupled decay). One kernel call per step.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "core/parameter_set.h"

namespace mtinet {

struct OptimizerConfig {
  std::string type = "adam";  // "sgd" | "adam" | "adamw"
  double lr = 1e-4;
  double weight_decay = 1e-4;
  double momentum = 0.9;  // sgd
  bool nesterov = false;  // sgd
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // adam, adamw
};

class Optimizer {
 public:
  Optimizer(ParameterSet& params, OptimizerConfig cfg);
  // One update with learning rate lr (the schedule's value for this step).
  void step(double lr);
  int64_t steps_taken() const { return steps_; }
  const OptimizerConfig& config() const { return cfg_; }

  // The state to checkpoint: step count and moment buffers, as named flat tensors.
  std::vector<std::pair<std::string, Tensor>> state() const;
  void load_state(const std::vector<std::pair<std::string, Tensor>>& named);

 private:
  ParameterSet& params_;
  OptimizerConfig cfg_;
  int64_t steps_ = 0;
  Tensor buf1_, buf2_;  // sgd: momentum; adam: exp_avg, exp_avg_sq
};

// Scales all gradients so that their global L2 norm is at most max_norm; returns the norm before clipping.
double clip_grad_norm(ParameterSet& params, double max_norm);

// Learning-rate schedule: poly decay lr * (1 - t/T)^power with t counted in epochs (the reference) or iterations,
// after an optional linear warm-up over the first warmup_iters iterations.
struct ScheduleConfig {
  std::string kind = "poly";  // "poly" | "constant"
  bool per_iteration = false;
  double power = 0.9;
  int64_t warmup_iters = 0;
};
double scheduled_lr(const ScheduleConfig& s, double base_lr, int64_t epoch, int64_t epochs, int64_t iter,
                    int64_t total_iters);

}  // namespace mtinet
