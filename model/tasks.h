// Task sets: which dense tasks a model predicts, with their output channels, loss and loss weight, in the order the
// reference configs list them (the order matters: it fixes the FPM's task-major concatenation and state_dict order).
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace mtinet {

enum class LossKind {
  CrossEntropy,  // semseg, human_parts: log-softmax + NLL, ignore label 255
  MaskedL1,      // depth: L1 over valid (non-zero) labels
  NormalsL1,     // normals: L2-normalised prediction, L1 over valid pixels
  BalancedBce,   // edge (fixed pos_weight), sal (pos_weight = fraction of negatives)
};

struct TaskSpec {
  std::string name;
  int64_t channels = 1;  // output channels K
  LossKind loss = LossKind::CrossEntropy;
  double loss_weight = 1.0;
  std::optional<double> pos_weight;  // BalancedBce only; empty = computed per batch
  int64_t ignore_index = 255;        // CrossEntropy only
};

struct TaskSet {
  std::string name;                 // "nyud", "nyud_aux", "pascal"
  std::vector<TaskSpec> main;       // T: tasks with a final prediction
  std::vector<TaskSpec> auxiliary;  // A: tasks with deep supervision (a superset of T, in the reference order)

  std::vector<std::string> main_names() const;
  std::vector<std::string> auxiliary_names() const;
  // Every task whose labels training needs: the auxiliary tasks, then any main task not among them.
  std::vector<std::string> label_names() const;
  const TaskSpec& spec(const std::string& task) const;  // throws naming an unknown task
  bool is_main(const std::string& task) const;
  // A set with only `task` (main and auxiliary), for single-task models; throws naming an unknown task.
  TaskSet single(const std::string& task) const;
};

// Per-task specifications as the reference uses them (output channels by dataset, loss, weight).
TaskSpec semseg_task(int64_t classes);
TaskSpec depth_task();
TaskSpec normals_task();
TaskSpec edge_task();
TaskSpec sal_task();
TaskSpec human_parts_task();

TaskSet nyud_tasks();      // T = A = semseg(40), depth
TaskSet nyud_aux_tasks();  // T = semseg, depth; A = semseg, normals, edge, depth
TaskSet pascal_tasks();    // T = A = semseg(21), human_parts, sal, normals, edge
// "nyud", "nyud_aux" or "pascal"; throws naming an unknown name.
TaskSet task_set_by_name(const std::string& name);

// The feature map for `task`, or an Error naming the task and what was looked for.
const Tensor& feature_of(const std::map<std::string, Tensor>& features, const std::string& task, const char* what);

}  // namespace mtinet
