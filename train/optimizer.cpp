#include "train/optimizer.h"

#include <algorithm>
#include <cmath>

#include "kernels/optimizer/optimizer.h"

namespace mtinet {

Optimizer::Optimizer(ParameterSet& params, OptimizerConfig cfg) : params_(params), cfg_(std::move(cfg)) {
  MTINET_CHECK(cfg_.type == "sgd" || cfg_.type == "adam" || cfg_.type == "adamw", "unknown optimizer '", cfg_.type,
               "' (expected sgd, adam or adamw)");
  const Tensor& p = params_.flat_params();
  if (cfg_.type != "sgd" || cfg_.momentum != 0) buf1_ = Tensor::zeros(p.shape(), p.dtype(), p.device());
  if (cfg_.type != "sgd") buf2_ = Tensor::zeros(p.shape(), p.dtype(), p.device());
}

void Optimizer::step(double lr) {
  ++steps_;
  Tensor p = params_.flat_params();
  const Tensor& g = params_.flat_grads();
  if (cfg_.type == "sgd") {
    Tensor buf = buf1_.defined() ? buf1_ : g;  // unused without momentum
    kernels::sgd_step(p, g, buf, {lr, cfg_.momentum, cfg_.weight_decay, cfg_.nesterov});
    return;
  }
  kernels::AdamParams h{lr,
                        cfg_.beta1,
                        cfg_.beta2,
                        cfg_.eps,
                        cfg_.weight_decay,
                        cfg_.type == "adamw",
                        1 - std::pow(cfg_.beta1, double(steps_)),
                        1 - std::pow(cfg_.beta2, double(steps_))};
  kernels::adam_step(p, g, buf1_, buf2_, h);
}

std::vector<std::pair<std::string, Tensor>> Optimizer::state() const {
  std::vector<std::pair<std::string, Tensor>> out;
  out.emplace_back("optimizer.steps", Tensor::from_vector<int64_t>({}, {steps_}));
  if (buf1_.defined()) out.emplace_back("optimizer.buf1", buf1_.to(Device::CPU).clone());
  if (buf2_.defined()) out.emplace_back("optimizer.buf2", buf2_.to(Device::CPU).clone());
  return out;
}

void Optimizer::load_state(const std::vector<std::pair<std::string, Tensor>>& named) {
  bool have_steps = false;
  std::vector<std::string> loaded;
  for (const auto& [name, t] : named) {
    if (name == "optimizer.steps") {
      steps_ = int64_t(t.item());
      have_steps = true;
      continue;
    }
    Tensor* dst = name == "optimizer.buf1" ? &buf1_ : name == "optimizer.buf2" ? &buf2_ : nullptr;
    if (!dst) continue;
    MTINET_CHECK(dst->defined() && t.shape() == dst->shape(), "optimizer state '", name, "' ", t.describe(),
                 " does not fit this ", cfg_.type, " optimizer over ", params_.numel(), " parameters");
    dst->copy_from(t.to(dst->dtype()).to(dst->device()));
    loaded.push_back(name);
  }
  MTINET_CHECK(have_steps, "optimizer state has no 'optimizer.steps'");
  // A missing moment buffer would resume with zeros: Adam's first steps after it would be far too large.
  for (const auto& [name, buf] : {std::pair<const char*, const Tensor*>{"optimizer.buf1", &buf1_},
                                  std::pair<const char*, const Tensor*>{"optimizer.buf2", &buf2_}}) {
    MTINET_CHECK(!buf->defined() || std::find(loaded.begin(), loaded.end(), name) != loaded.end(),
                 "optimizer state has no '", name, "', which this ", cfg_.type, " optimizer keeps");
  }
}

double clip_grad_norm(ParameterSet& params, double max_norm) {
  Tensor g = params.flat_grads();
  Tensor sq = Tensor::empty({}, g.dtype(), g.device());
  kernels::sum_squares(g, sq);
  double norm = std::sqrt(sq.item());
  if (norm > max_norm && norm > 0) {
    // PyTorch's clip_grad_norm_: coefficient max_norm / (norm + 1e-6).
    Tensor coef = Tensor::full({}, max_norm / (norm + 1e-6), g.dtype(), g.device());
    kernels::scale_by(g, coef);
  }
  return norm;
}

double scheduled_lr(const ScheduleConfig& s, double base_lr, int64_t epoch, int64_t epochs, int64_t iter,
                    int64_t total_iters) {
  double lr = base_lr;
  if (s.kind == "poly") {
    double t = s.per_iteration ? double(iter) / double(total_iters) : double(epoch) / double(epochs);
    lr = base_lr * std::pow(std::max(0.0, 1.0 - t), s.power);
  } else {
    MTINET_CHECK(s.kind == "constant", "unknown lr schedule '", s.kind, "' (expected poly or constant)");
  }
  if (iter < s.warmup_iters) lr *= double(iter + 1) / double(s.warmup_iters);
  return lr;
}

}  // namespace mtinet
