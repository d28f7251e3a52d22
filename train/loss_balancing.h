// Loss balancing for multi-task training: how the per-task losses are weighted into the one loss to backpropagate.
//
//   fixed        total = sum_t w_t L_t with the config's weights (the reference: NYUD semseg 1, depth 1, normals 10,
//                edge 50; PASCAL semseg 1, human_parts 2, sal 5, edge 50, normals 10).
//   uncertainty  Kendall, Gal & Cipolla, CVPR 2018, with learned log-variances s_t = log sigma_t^2:
//                total = sum_t exp(-s_t) L_t + s_t, the form of the widely used implementations. It is exactly twice
//                the paper's regression form 1/(2 sigma^2) L + log sigma, so it has the same optimum s_t = log L_t; the
//                paper's classification form (1/sigma^2 L + log sigma) is not used, for every task alike.
//   dwa          Liu, Johns & Davison, CVPR 2019 (Dynamic Weight Average): for epoch e the weights are
//                w_k = K softmax_k(r_k / T), r_k = Lbar_k(e-1) / Lbar_k(e-2) with Lbar the mean training loss of task k
//                over an epoch; all 1 until two epochs are complete.
//   gradnorm     Chen et al., ICML 2018: learnable weights w_i (start 1) that equalise the tasks' gradient norms at the
//                last shared layer W, adjusted by the tasks' relative training rates (see GradNormBalancer).
//
// The tasks are named; a task's loss is whatever the trainer passes under its name (for MTI-Net: the final loss plus
// the deep-supervision losses of that task). Every method logs its weights through weights().
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/tensor.h"

namespace mtinet {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class LossBalancer {
 public:
  explicit LossBalancer(std::vector<std::string> tasks);
  virtual ~LossBalancer() = default;
  LossBalancer(const LossBalancer&) = delete;
  LossBalancer& operator=(const LossBalancer&) = delete;

  virtual const char* method() const = 0;
  const std::vector<std::string>& tasks() const { return tasks_; }

  // The total loss (0-d) of one training step, differentiable w.r.t. the task losses (and, for uncertainty, its
  // log-variances). task_losses holds exactly the balancer's tasks, each a 0-d tensor of one dtype and device.
  // step counts iterations, epoch epochs (DWA changes its weights when epoch changes).
  virtual Tensor combine(const std::map<std::string, Tensor>& task_losses, int64_t step, int64_t epoch) = 0;

  // The weight each task's loss had in the last combine() (before any: the starting weights), for logging.
  virtual std::map<std::string, double> weights() const = 0;

  // Learnable tensors the trainer optimises together with the network (add them to its ParameterSet).
  virtual std::vector<Tensor> parameters() const { return {}; }

  // Moves the learnable tensors to `device` in place, as Module::to does: each keeps its TensorImpl, so every
  // handle to it (those parameters() returned, combine()'s own) sees the move. The trainer calls this before it
  // packs parameters() into its ParameterSet, which from then on moves them (ParameterSet::to). Drops gradients.
  virtual void to(Device device) { (void)device; }

  // The weight of the last shared layer, for methods that look at gradients there (GradNorm); others ignore it.
  virtual void set_shared_weight(const Tensor& weight) { (void)weight; }

  // The state to checkpoint, as named CPU tensors ("balancer.<method>...."); load_state ignores other names (so one
  // checkpoint list can feed every component) and throws when one of its own is missing or misshapen.
  virtual NamedTensors state() const { return {}; }
  virtual void load_state(const NamedTensors& named) { (void)named; }

 protected:
  // Checks the losses name exactly the tasks and are 0-d tensors of one dtype and device; returns them in task order.
  std::vector<Tensor> ordered_losses(const std::map<std::string, Tensor>& task_losses) const;
  // sum_t weights[t] * losses[t], weights in task order.
  static Tensor weighted_sum(const std::vector<Tensor>& losses, const std::vector<double>& weights);
  std::map<std::string, double> by_task(const std::vector<double>& values) const;
  // The tensor named `name` in `named` (throws naming it when absent).
  static const Tensor& state_entry(const NamedTensors& named, const std::string& name);

 private:
  std::vector<std::string> tasks_;
};

class FixedWeightsBalancer : public LossBalancer {
 public:
  // weights: one per task, in task order.
  FixedWeightsBalancer(std::vector<std::string> tasks, std::vector<double> weights);
  const char* method() const override { return "fixed"; }
  Tensor combine(const std::map<std::string, Tensor>& task_losses, int64_t step, int64_t epoch) override;
  std::map<std::string, double> weights() const override { return by_task(weights_); }

 private:
  std::vector<double> weights_;
};

class UncertaintyBalancer : public LossBalancer {
 public:
  // Log-variances start at 0 (weights 1), as 0-d CPU tensors of `dtype` named "log_var.<task>"; to() moves them.
  explicit UncertaintyBalancer(std::vector<std::string> tasks, DType dtype = DType::F32);
  const char* method() const override { return "uncertainty"; }
  // The losses must be on the log-variances' device. Reads the s_t to the host in one copy (one synchronisation per
  // step on a GPU): the op API has no exp to keep exp(-s_t) on the device.
  Tensor combine(const std::map<std::string, Tensor>& task_losses, int64_t step, int64_t epoch) override;
  // exp(-s_t) as of the last combine().
  std::map<std::string, double> weights() const override { return by_task(weights_); }
  std::vector<Tensor> parameters() const override { return log_vars_; }
  void to(Device device) override;
  NamedTensors state() const override;
  void load_state(const NamedTensors& named) override;

 private:
  std::vector<Tensor> log_vars_;
  std::vector<double> weights_;
};

class DwaBalancer : public LossBalancer {
 public:
  DwaBalancer(std::vector<std::string> tasks, double temperature);
  const char* method() const override { return "dwa"; }
  // Sums the detached losses on their device (no synchronisation); when `epoch` differs from the previous call's,
  // that epoch's means are read back and become the newest history entry, and the weights are recomputed.
  Tensor combine(const std::map<std::string, Tensor>& task_losses, int64_t step, int64_t epoch) override;
  std::map<std::string, double> weights() const override { return by_task(weights_); }
  NamedTensors state() const override;
  void load_state(const NamedTensors& named) override;

  // The mean loss of each task over the last two completed epochs (newest first); fewer before two epochs end.
  const std::vector<std::vector<double>>& history() const { return history_; }

 private:
  void close_epoch();
  void update_weights();
  std::vector<double> epoch_sums() const;  // this epoch's loss sums so far (reads the device sums back)

  double temperature_;
  int64_t epoch_ = -1;  // the epoch being summed; -1 before the first combine()
  int64_t steps_in_epoch_ = 0;
  std::vector<Tensor> sums_;          // per task, on the losses' device, since this process took over the epoch
  std::vector<double> carried_sums_;  // per task, what a loaded checkpoint had summed of this epoch
  std::vector<std::vector<double>> history_;
  std::vector<double> weights_;
};

// GradNorm. At every combine(), with n_i = ||dL_i/dW|| for the last shared layer's weight W (see grad() in
// core/autograd.h: computed without touching any .grad and running only the graph between L_i and W):
//   G_i = w_i n_i,  G_avg = mean_i G_i,  Ltilde_i = L_i / L_i(first step),  r_i = Ltilde_i / mean_j Ltilde_j,
//   target_i = G_avg r_i^alpha (held constant),  L_grad = sum_i |G_i - target_i|,
//   dL_grad/dw_i = sign(G_i - target_i) n_i.
// The total loss uses the current weights (as constants); then the weights take one step of their own optimiser,
// are clipped at 0 (a negative weight would ascend its loss; a zero weight recovers, since its G_i = 0 is below
// target) and are renormalised to sum to the number of tasks. The optimiser is Adam by default, as in the common
// implementations: its steps are about lr whatever the scale of the gradient norms, which no config can predict;
// plain SGD is there for exact checks. Costs one partial backward per task and host reads every step.
class GradNormBalancer : public LossBalancer {
 public:
  enum class Optimiser { Adam, Sgd };
  GradNormBalancer(std::vector<std::string> tasks, double alpha, double lr, Optimiser optimiser = Optimiser::Adam);
  const char* method() const override { return "gradnorm"; }
  // The losses' graphs must reach the shared weight; they are retained for the trainer's backward of the total.
  Tensor combine(const std::map<std::string, Tensor>& task_losses, int64_t step, int64_t epoch) override;
  std::map<std::string, double> weights() const override { return by_task(applied_); }
  void set_shared_weight(const Tensor& weight) override;
  NamedTensors state() const override;
  void load_state(const NamedTensors& named) override;

  // The quantities of the last combine(), in task order, for tests and logging.
  struct Step {
    std::vector<double> grad_norms;  // n_i
    std::vector<double> G, targets, weight_grads;
    double gradnorm_loss = 0;  // L_grad
  };
  const Step& last_step() const { return last_; }
  // The weights the next combine() will use.
  const std::vector<double>& next_weights() const { return w_; }

 private:
  void update(const std::vector<double>& weight_grads);

  double alpha_, lr_;
  Optimiser optimiser_;
  Tensor shared_weight_;
  std::vector<double> w_, applied_, initial_losses_;
  std::vector<double> adam_m_, adam_v_;
  int64_t adam_steps_ = 0;
  Step last_;
};

// A balancer from the config's "loss_balancing" object:
//   {"method": "fixed", "weights": {"semseg": 1, "depth": 1}}   (weights: every task, >= 0; absent: all 1)
//   {"method": "uncertainty"}
//   {"method": "dwa", "temperature": 2}                         (T > 0, default 2)
//   {"method": "gradnorm", "alpha": 1.5, "lr": 0.025, "optimizer": "adam" | "sgd"}   (the defaults shown)
// Unknown keys, and keys of another method, throw naming the key. dtype: that of uncertainty's log-variances, which
// must match the model's parameters.
std::unique_ptr<LossBalancer> make_balancer(const nlohmann::json& cfg, const std::vector<std::string>& tasks,
                                            DType dtype = DType::F32);

}  // namespace mtinet
