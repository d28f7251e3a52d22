#include "train/task_losses.h"

#include "core/ops.h"

namespace mtinet {

Tensor task_loss(const TaskSpec& spec, const Tensor& prediction, const Tensor& label) {
  switch (spec.loss) {
    case LossKind::CrossEntropy: return ops::cross_entropy(prediction, label, spec.ignore_index);
    case LossKind::MaskedL1: return ops::masked_l1(prediction, label, 0.0);
    case LossKind::NormalsL1: return ops::normals_l1(prediction, label);
    case LossKind::BalancedBce: return ops::balanced_bce(prediction, label, spec.pos_weight);
  }
  MTINET_FAIL("unknown loss kind for task '", spec.name, "'");
}

Tensor upsampled_task_loss(const TaskSpec& spec, const Tensor& prediction, const Tensor& label) {
  switch (spec.loss) {
    case LossKind::CrossEntropy: return ops::upsampled_cross_entropy(prediction, label, spec.ignore_index);
    case LossKind::MaskedL1: return ops::upsampled_masked_l1(prediction, label, 0.0);
    case LossKind::NormalsL1: return ops::upsampled_normals_l1(prediction, label);
    case LossKind::BalancedBce: return ops::upsampled_balanced_bce(prediction, label, spec.pos_weight);
  }
  MTINET_FAIL("unknown loss kind for task '", spec.name, "'");
}

namespace {
const Tensor& label_for(const std::map<std::string, Tensor>& labels, const std::string& task) {
  auto it = labels.find(task);
  MTINET_CHECK(it != labels.end(), "the batch has no labels for task '", task, "'");
  return it->second;
}

void accumulate(std::map<std::string, Tensor>& into, const std::string& task, const Tensor& loss) {
  auto [it, inserted] = into.try_emplace(task, loss);
  if (!inserted) it->second = ops::add(it->second, loss);
}
}  // namespace

TaskLosses compute_task_losses(const TaskSet& tasks, const ModelOutput& out,
                               const std::map<std::string, Tensor>& labels) {
  TaskLosses result;
  for (const TaskSpec& spec : tasks.main) {
    const Tensor& label = label_for(labels, spec.name);
    Tensor l;
    if (auto it = out.tasks.find(spec.name); it != out.tasks.end()) {
      l = task_loss(spec, it->second, label);
    } else if (auto low = out.tasks_before_upsampling.find(spec.name); low != out.tasks_before_upsampling.end()) {
      // The model would have upsampled to its input's size; the loss upsamples to the label's, so they must agree
      // (as they must for the full-resolution prediction's loss).
      MTINET_CHECK(label.dim(1) == out.upsampled_size[0] && label.dim(2) == out.upsampled_size[1], "labels ",
                   label.describe(), " of task '", spec.name, "' do not have the input's size ", out.upsampled_size[0],
                   "x", out.upsampled_size[1]);
      l = upsampled_task_loss(spec, low->second, label);
    } else {
      MTINET_FAIL("the model produced no prediction for main task '", spec.name, "'");
    }
    result.final_only[spec.name] = l;
    accumulate(result.per_task, spec.name, l);
  }
  for (const auto& scale : out.deep_supervision) {
    for (const auto& [task, pred] : scale) {
      const Tensor& label = label_for(labels, task);
      // Deep-supervision predictions are upsampled to the label's size inside the loss: the full-resolution maps
      // (40 channels for NYUD's semseg, at every scale) are never stored.
      accumulate(result.per_task, task, upsampled_task_loss(tasks.spec(task), pred, label));
    }
  }
  return result;
}

Tensor fixed_weighted_total(const TaskSet& tasks, const TaskLosses& losses) {
  Tensor total;
  for (const auto& [task, l] : losses.per_task) {
    Tensor weighted = ops::scale(l, tasks.spec(task).loss_weight);
    total = total.defined() ? ops::add(total, weighted) : weighted;
  }
  return total;
}

}  // namespace mtinet
