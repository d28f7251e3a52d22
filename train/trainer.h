// The training loop: epochs of batches through the model, per-task losses, loss balancing, optimiser steps on
// flat buffers, periodic evaluation, checkpoints, a JSON-lines log and a progress bar.
#pragma once
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/parameter_set.h"
#include "data/loader.h"
#include "eval/evaluate.h"
#include "model/network.h"
#include "train/config.h"
#include "train/loss_balancing.h"
#include "train/metrics_log.h"
#include "train/optimizer.h"
#include "train/overlapped_gradient_sum.h"

namespace mtinet {

struct TrainSummary {
  int64_t steps = 0;
  std::vector<double> losses;  // total loss of every step this run took
  nlohmann::json last_eval;    // the last evaluation's results (empty if none ran)
  nlohmann::json trivial;      // the final evaluation against the trivial baseline (TrivialComparison::to_json)
  int64_t log_records_lost = 0;  // metrics.jsonl / event-file records never written (full disk...): see MetricsLog
};

class Trainer {
 public:
  explicit Trainer(TrainConfig cfg);
  // Continues from a checkpoint's state file (its weights file beside it), or from the newest checkpoint in the
  // configured directory that reads back when `state_path` is "latest" (train/resume.h). Refuses a config whose batch
  // size, seed or data order would make the saved position mean other samples, and drops the metrics.jsonl records
  // after the checkpoint (the resumed run writes them again). With "latest" and no checkpoint there yet, the run
  // starts from step 0 as start_fresh() does. Returns the state file resumed from, "" for none.
  std::string resume(const std::string& state_path);
  // A run from step 0 in checkpoint.dir: refused when the folder holds checkpoints (continue them with resume, or
  // pick another folder); a metrics log without any checkpoint (a run killed in its first epoch) is emptied.
  void start_fresh();
  TrainSummary run();
  // Metrics (and mean losses) on the validation split, in eval mode without gradients (eval/evaluate.h). Under
  // mpirun every rank must call it: each evaluates its share of the split with rank 0's BatchNorm statistics and all
  // return the metrics of the whole split (train/sharded_eval.h).
  nlohmann::json evaluate();
  // The trivial baseline's results on the validation split (fitted on the training split once, then cached).
  const nlohmann::json& trivial_results();

  MultiTaskNetwork& model() { return *model_; }
  Device device() const { return device_; }
  DType dtype() const { return dtype_; }
  LossBalancer& balancer() { return *balancer_; }
  // What the optimiser updates: the model's parameters, then the balancer's.
  const ParameterSet& parameters() const { return *params_; }

  // How many steps late run() reads each step's losses back to the host (train/loss_readback.h): 1 on a GPU, so
  // that no step waits for the device; 0 on the CPU. The logged values are the same whatever the lag; a NaN stops
  // the run at most `steps` steps late, and never after a checkpoint of the weights it wrecked.
  void set_loss_readback_lag(int64_t steps);
  int64_t loss_readback_lag() const { return loss_readback_lag_; }

 private:
  std::map<std::string, Tensor> batch_to_device(const Batch& b) const;
  // Returns the weights file's path. Refuses (throws, writing nothing) when a weight or optimiser tensor is NaN or
  // Inf; `last_good` names the checkpoint the message points the user to instead.
  std::string save_checkpoint(const std::string& last_good);
  void remove_leftovers();        // of interrupted checkpoint writes, before the run writes any
  void trim_log_to_resumed_step();
  void log_json(const nlohmann::json& j);
  EvalSettings eval_settings() const;
  // Prints the task | metric | model | trivial | beats table for `results` and logs it; returns its JSON.
  nlohmann::json report_against_trivial(const nlohmann::json& results);

  // Data parallelism and gradient accumulation (train/trainer_parallel.cpp). A step's losses, summed over its
  // micro-batches (0-d tensors, no autograd history).
  struct StepLosses {
    Tensor total;
    std::map<std::string, Tensor> per_task;
  };
  void check_data_parallel_config() const;
  // Forward and backward passes over this rank's share of the step's batch in grad_accumulation micro-batches; leaves
  // the sum of their gradients in the flat gradient buffer.
  StepLosses forward_backward(const std::map<std::string, Tensor>& data, int64_t epoch);
  // Turns the summed micro-batch gradients of every rank into their mean, the same on every rank.
  void average_gradients();
  // The loss values read back (summed over this rank's micro-batches) into the mean over all micro-batches of all ranks.
  void average_losses(std::vector<double>& values) const;
  // Every rank takes rank 0's position, parameters, buffers, optimiser and balancer state (after start or resume).
  void sync_replicas();
  // Throws on a rank whose parameters are no longer rank 0's, bit for bit (checked before each checkpoint, by CRC):
  // ranks that drifted apart would train different models while only rank 0's is saved.
  void check_replicas_agree() const;
  // Every rank takes rank 0's BatchNorm statistics (each rank's follow its own micro-batches between syncs).
  void sync_buffers();

  TrainConfig cfg_;
  Device device_;
  DType dtype_;
  std::shared_ptr<MultiTaskNetwork> model_;
  std::unique_ptr<LossBalancer> balancer_;
  std::unique_ptr<ParameterSet> params_;
  std::unique_ptr<Optimizer> optimizer_;
  std::shared_ptr<Dataset> train_set_, val_set_;
  std::unique_ptr<Loader> train_loader_;
  LoaderState start_at_;
  int64_t step_ = 0;
  std::string resumed_from_;  // the state file resume() read, "" for a fresh run
  int64_t loss_readback_lag_ = 0;
  std::unique_ptr<MetricsLog> log_;  // metrics.jsonl and the TensorBoard event file; rank 0 only
  Tensor grad_sum_;  // grad_accumulation > 1: the micro-batches' summed gradients
  // Several ranks with distributed.overlap: the gradient all-reduce, started bucket by bucket during backward.
  std::unique_ptr<OverlappedGradientSum> overlapped_sum_;
  nlohmann::json trivial_results_;  // null until computed
};

}  // namespace mtinet
