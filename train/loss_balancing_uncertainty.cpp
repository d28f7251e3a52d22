// Uncertainty weighting (Kendall, Gal & Cipolla, CVPR 2018): total = sum_t exp(-s_t) L_t + s_t, s_t learned.
#include <cmath>

#include "core/autograd.h"
#include "core/ops.h"
#include "train/loss_balancing.h"

namespace mtinet {

namespace {

const std::string kStatePrefix = "balancer.uncertainty.log_var.";

// exp(-s) for a 0-d s whose value the caller read (exp_minus_s), recorded so that d/ds = -exp(-s). The op API has
// no exp, so the value comes from the host; the result lives on s's device like any other loss term.
Tensor exp_neg(const Tensor& s, double exp_minus_s) {
  Tensor out = Tensor::full(s.shape(), exp_minus_s, s.dtype(), s.device());
  return record(out, "exp_neg", {s}, {}, [exp_minus_s](const Tensor& g, const std::vector<Tensor>&) {
    return std::vector<Tensor>{ops::scale(g, -exp_minus_s)};
  });
}

// The values of 0-d tensors on one device, read in one copy: one synchronisation on a GPU, not one per tensor.
std::vector<double> read_values(const std::vector<Tensor>& xs) {
  Tensor gathered = Tensor::empty({int64_t(xs.size())}, xs[0].dtype(), xs[0].device());
  for (size_t i = 0; i < xs.size(); ++i) Tensor::view_of(gathered, int64_t(i), {}).copy_from(xs[i]);
  return gathered.to_double_vector();
}

}  // namespace

UncertaintyBalancer::UncertaintyBalancer(std::vector<std::string> tasks, DType dtype)
    : LossBalancer(std::move(tasks)), weights_(this->tasks().size(), 1.0) {
  MTINET_CHECK(is_floating(dtype), "uncertainty weighting: log-variances must be floating point, not ",
               dtype_name(dtype));
  for (const std::string& t : this->tasks()) {
    Tensor s = Tensor::zeros({}, dtype);
    s.set_name("log_var." + t).set_requires_grad(true);
    log_vars_.push_back(s);
  }
}

Tensor UncertaintyBalancer::combine(const std::map<std::string, Tensor>& task_losses, int64_t, int64_t) {
  std::vector<Tensor> losses = ordered_losses(task_losses);
  for (size_t t = 0; t < losses.size(); ++t) {
    const Tensor& s = log_vars_[t];
    MTINET_CHECK(losses[t].dtype() == s.dtype() && losses[t].device() == s.device(),
                 "uncertainty weighting: the loss of '", tasks()[t], "' (", losses[t].describe(),
                 ") differs in dtype or device from its log-variance (", s.describe(), ")");
  }
  std::vector<double> s_values = read_values(log_vars_);
  Tensor total;
  for (size_t t = 0; t < losses.size(); ++t) {
    const Tensor& s = log_vars_[t];
    weights_[t] = std::exp(-s_values[t]);
    Tensor term = ops::add(ops::mul(exp_neg(s, weights_[t]), losses[t]), s);
    total = total.defined() ? ops::add(total, term) : term;
  }
  return total;
}

void UncertaintyBalancer::to(Device device) {
  for (Tensor& s : log_vars_) {
    if (s.device() == device) continue;  // also keeps a packed tensor's gradient view intact
    Tensor moved = s.to(device);
    TensorImpl& impl = s.impl();
    impl.storage = moved.impl().storage;
    impl.offset = moved.impl().offset;
    impl.grad.reset();  // it lives on the old device; the trainer's ParameterSet gives a new one
  }
}

NamedTensors UncertaintyBalancer::state() const {
  NamedTensors out;
  for (size_t t = 0; t < log_vars_.size(); ++t) {
    out.emplace_back(kStatePrefix + tasks()[t], Tensor::from_vector<double>({}, {log_vars_[t].item()}));
  }
  return out;
}

void UncertaintyBalancer::load_state(const NamedTensors& named) {
  for (size_t t = 0; t < log_vars_.size(); ++t) {
    const std::string name = kStatePrefix + tasks()[t];
    const Tensor& saved = state_entry(named, name);
    MTINET_CHECK(saved.numel() == 1, "loss balancing state '", name, "' must hold one value, got ", saved.describe());
    double s = saved.item();
    log_vars_[t].copy_from(Tensor::full({}, s, log_vars_[t].dtype(), log_vars_[t].device()));
    weights_[t] = std::exp(-s);
  }
}

}  // namespace mtinet
