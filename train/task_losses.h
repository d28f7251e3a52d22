// Per-task losses of a multi-task model's output against a batch, as the reference computes them:
//   L_t(final_t) for each main task, plus for each deep-supervision scale s and auxiliary task a,
//   L_a(bilinear-upsample(P_s,a) to the label size), the upsampling fused into the loss (upsampled_task_loss).
// Each task's entry sums its final and deep-supervision losses, unweighted; the per-task weights (fixed, or learned
// by a balancing method) are applied afterwards, which for fixed weights gives exactly the reference's total
// sum_t w_t L_t + sum_s sum_a w_a L_a.
#pragma once
#include <map>
#include <string>

#include "core/tensor.h"
#include "model/network.h"

namespace mtinet {

// The loss of one prediction (NHWC, at label resolution) for task `spec` against its label tensor.
Tensor task_loss(const TaskSpec& spec, const Tensor& prediction, const Tensor& label);

// task_loss(spec, resize_bilinear(prediction, H, W), label) with H x W the label's size, through the fused upsampled
// losses (core/ops.h): the same numbers without storing the upsampled prediction.
Tensor upsampled_task_loss(const TaskSpec& spec, const Tensor& prediction, const Tensor& label);

struct TaskLosses {
  std::map<std::string, Tensor> per_task;   // unweighted, final + deep supervision
  std::map<std::string, Tensor> final_only; // main tasks' final-prediction losses (for logging)
};

// labels: the batch tensors by task name, on the model's device. A main task's final loss is taken from
// out.tasks, or fused from out.tasks_before_upsampling when the forward was asked for FinalPredictions::BeforeUpsampling
// (the training step's choice): the same numbers either way.
TaskLosses compute_task_losses(const TaskSet& tasks, const ModelOutput& out,
                               const std::map<std::string, Tensor>& labels);

// sum_t w_t L_t with each task's fixed loss weight (TaskSpec::loss_weight): the reference's total without a
// balancing method, as benchmarks and tests use it.
Tensor fixed_weighted_total(const TaskSet& tasks, const TaskLosses& losses);

}  // namespace mtinet
