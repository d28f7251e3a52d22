// What data-parallel training (train/distributed.h) and gradient accumulation add to the trainer. Both split the
// step's global batch (config batch_size) into micro-batches: grad_accumulation of them on each of the N ranks, each
// normalised by its own BatchNorm statistics. The step's gradient is the mean of the micro-batches' gradients, summed
// the same way on every path (per rank, then over ranks, then one scale by 1 / parts), so that 2 ranks x 1 micro-batch
// and 1 rank x 2 micro-batches of the same samples reach the same weights, bit for bit in f64.
#include <string>

#include "core/ops.h"
#include "kernels/elementwise/elementwise.h"
#include "kernels/optimizer/optimizer.h"
#include "train/crc32c.h"
#include "train/distributed.h"
#include "train/task_losses.h"
#include "train/trainer.h"

namespace mtinet {

namespace {

int64_t micro_batches_per_step(const TrainConfig& cfg) { return int64_t(dist::size()) * cfg.grad_accumulation; }

// acc = x (a detached copy) on the first micro-batch, acc += x after.
void accumulate(Tensor& acc, const Tensor& x, bool first) {
  if (first) {
    acc = x.detach().clone();
  } else {
    kernels::add_inplace(acc, x.detach());
  }
}

// Synchronised BatchNorm for the passes of one step (the backward passes keep the function their forward saw).
class BatchNormSyncScope {
 public:
  explicit BatchNormSyncScope(bool on) {
    if (!on) return;
    ops::set_batch_norm_sync([](std::vector<double>& v) {
      dist::allreduce_sum(v);
      for (double& x : v) x /= dist::size();
      return dist::size();
    });
  }
  ~BatchNormSyncScope() { ops::set_batch_norm_sync({}); }
  BatchNormSyncScope(const BatchNormSyncScope&) = delete;
  BatchNormSyncScope& operator=(const BatchNormSyncScope&) = delete;
};

}  // namespace

void Trainer::check_data_parallel_config() const {
  int64_t parts = micro_batches_per_step(cfg_);
  MTINET_CHECK(cfg_.batch_size % parts == 0, "config: batch_size ", cfg_.batch_size, " is the global batch of a step, "
               "split into equal micro-batches over ", dist::size(), " rank(s) x grad_accumulation ",
               cfg_.grad_accumulation, " = ", parts, " parts: make it a multiple of ", parts);
  std::string method = cfg_.loss.value("method", std::string("fixed"));
  // DWA and GradNorm set the task weights from the losses and gradients of the pass they see: ranks and micro-batches
  // would each weight the tasks differently, and no single-process run would be the same training.
  MTINET_CHECK(parts == 1 || method == "fixed" || method == "uncertainty", "loss.method '", method, "' adapts the "
               "task weights to each pass's own losses, which differ between micro-batches: it trains in one process "
               "with grad_accumulation 1 (here: ", dist::size(), " rank(s) x grad_accumulation ",
               cfg_.grad_accumulation, "); fixed and uncertainty weighting work with any number");
  MTINET_CHECK(!cfg_.sync_bn || cfg_.grad_accumulation == 1, "config: sync_bn normalises the ranks' batches "
               "together, but the ", cfg_.grad_accumulation, " micro-batches of a rank (grad_accumulation) pass one "
               "after another and cannot be: use one or the other");
}

Trainer::StepLosses Trainer::forward_backward(const std::map<std::string, Tensor>& data, int64_t epoch) {
  const TaskSet& tasks = model_->tasks();
  int64_t k = cfg_.grad_accumulation;
  int64_t m = data.at("image").dim(0) / k;
  StepLosses sum;
  BatchNormSyncScope sync_bn(cfg_.sync_bn && dist::size() > 1);
  for (int64_t i = 0; i < k; ++i) {
    std::map<std::string, Tensor> part;
    for (const auto& [name, t] : data) part[name] = k == 1 ? t : t.slice_batch(i * m, (i + 1) * m);
    ModelOutput out = model_->forward(part.at("image"), FinalPredictions::BeforeUpsampling);
    TaskLosses losses = compute_task_losses(tasks, out, part);
    Tensor total = balancer_->combine(losses.per_task, step_, epoch);
    accumulate(sum.total, total, i == 0);
    for (const auto& [name, l] : losses.per_task) accumulate(sum.per_task[name], l, i == 0);
    params_->zero_grad();
    if (overlapped_sum_ && i == k - 1) {
      // The step's last pass: each bucket, once final, gets the earlier micro-batches' sum added (grad_sum_ + g is
      // the same addition as below) and starts its all-reduce while backward goes on; average_gradients() waits.
      overlapped_sum_->backward(total, k > 1 ? grad_sum_ : Tensor());
      return sum;
    }
    total.backward();
    // Summed outside the gradient buffer: backward adds a parameter's several contributions into it one by one, so
    // accumulating there would add them onto the previous micro-batches' sum in another order than a rank of its own.
    if (k > 1) {
      if (i == 0) {
        if (!grad_sum_.defined()) grad_sum_ = params_->flat_grads().clone();
        else grad_sum_.copy_from(params_->flat_grads());
      } else {
        kernels::add_inplace(grad_sum_, params_->flat_grads());
      }
    }
  }
  if (k > 1) params_->flat_grads().copy_from(grad_sum_);
  return sum;
}

void Trainer::average_gradients() {
  int64_t parts = micro_batches_per_step(cfg_);
  if (parts == 1) return;
  Tensor g = params_->flat_grads();
  if (overlapped_sum_) {
    overlapped_sum_->wait();  // started during backward (forward_backward)
  } else {
    dist::allreduce_sum(g, cfg_.distributed.bucket_bytes());
  }
  kernels::scale_by(g, Tensor::full({}, 1.0 / double(parts), g.dtype(), g.device()));
}

void Trainer::average_losses(std::vector<double>& values) const {
  int64_t parts = micro_batches_per_step(cfg_);
  if (parts == 1) return;
  dist::allreduce_sum(values);
  for (double& v : values) v /= double(parts);
}

void Trainer::sync_replicas() {
  if (dist::size() == 1) return;
  std::vector<int64_t> position = {step_, start_at_.epoch, start_at_.next_batch};
  dist::broadcast(position);
  step_ = position[0];
  start_at_ = {position[1], position[2]};
  dist::broadcast(params_->flat_params());
  sync_buffers();
  // The optimiser's and balancer's state travel as the named copies a checkpoint holds, then load as on resume.
  auto sync_state = [](std::vector<std::pair<std::string, Tensor>> named) {
    for (auto& entry : named) {
      entry.second = entry.second.clone();
      dist::broadcast(entry.second);
    }
    return named;
  };
  std::vector<std::pair<std::string, Tensor>> opt = sync_state(optimizer_->state());
  std::vector<std::pair<std::string, Tensor>> bal = sync_state(balancer_->state());
  if (dist::is_root()) return;
  optimizer_->load_state(opt);
  balancer_->load_state(bal);
}

void Trainer::check_replicas_agree() const {
  if (dist::size() == 1) return;
  // Identical gradients and identical updates keep the replicas identical as long as the all-reduce gives every rank
  // the same sum (MPI and NCCL do for a sum over the same inputs); this checks that instead of trusting it.
  Tensor p = params_->flat_params().to(Device::CPU);
  std::vector<int64_t> crc = {int64_t(crc32c(p.raw_data(), p.nbytes()))};
  int64_t mine = crc[0];
  dist::broadcast(crc);
  MTINET_CHECK(mine == crc[0], "rank ", dist::world().rank, ": at step ", step_, " the parameters differ from rank "
               "0's (CRC-32C ", mine, " vs ", crc[0], "): the ranks no longer train the same model; training stopped "
               "before the checkpoint (resume from the last one; a rank with different hardware or library versions "
               "may compute differently)");
}

void Trainer::sync_buffers() {
  if (dist::size() == 1) return;
  for (const StateEntry& e : model_->state_entries())
    if (e.is_buffer) dist::broadcast(e.tensor);
}

}  // namespace mtinet
