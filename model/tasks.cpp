#include "model/tasks.h"

#include <algorithm>

#include "core/error.h"

namespace mtinet {

namespace {
std::vector<std::string> names_of(const std::vector<TaskSpec>& specs) {
  std::vector<std::string> out;
  for (const TaskSpec& s : specs) out.push_back(s.name);
  return out;
}
}  // namespace

std::vector<std::string> TaskSet::main_names() const { return names_of(main); }
std::vector<std::string> TaskSet::auxiliary_names() const { return names_of(auxiliary); }

std::vector<std::string> TaskSet::label_names() const {
  std::vector<std::string> names = auxiliary_names();
  for (const std::string& m : main_names())
    if (std::find(names.begin(), names.end(), m) == names.end()) names.push_back(m);
  return names;
}

const TaskSpec& TaskSet::spec(const std::string& task) const {
  for (const TaskSpec& s : auxiliary)
    if (s.name == task) return s;
  for (const TaskSpec& s : main)
    if (s.name == task) return s;
  MTINET_FAIL("task '", task, "' is not part of task set '", name, "'");
}

bool TaskSet::is_main(const std::string& task) const {
  for (const TaskSpec& s : main)
    if (s.name == task) return true;
  return false;
}

TaskSet TaskSet::single(const std::string& task) const {
  TaskSet out;
  out.name = name + ":" + task;
  out.main = {spec(task)};
  out.auxiliary = out.main;
  return out;
}

TaskSpec semseg_task(int64_t classes) { return {"semseg", classes, LossKind::CrossEntropy, 1.0, {}, 255}; }
TaskSpec depth_task() { return {"depth", 1, LossKind::MaskedL1, 1.0, {}, 255}; }
TaskSpec normals_task() { return {"normals", 3, LossKind::NormalsL1, 10.0, {}, 255}; }
TaskSpec edge_task() { return {"edge", 1, LossKind::BalancedBce, 50.0, 0.95, 255}; }
TaskSpec sal_task() { return {"sal", 1, LossKind::BalancedBce, 5.0, std::nullopt, 255}; }
TaskSpec human_parts_task() { return {"human_parts", 7, LossKind::CrossEntropy, 2.0, {}, 255}; }

TaskSet nyud_tasks() {
  TaskSet t;
  t.name = "nyud";
  t.main = {semseg_task(40), depth_task()};
  t.auxiliary = t.main;
  return t;
}

TaskSet nyud_aux_tasks() {
  TaskSet t;
  t.name = "nyud_aux";
  t.main = {semseg_task(40), depth_task()};
  // The reference's auxiliary order (see tests/fixtures/reference/mtinet_nyud_aux_state_dict.tsv).
  t.auxiliary = {semseg_task(40), normals_task(), edge_task(), depth_task()};
  return t;
}

TaskSet pascal_tasks() {
  TaskSet t;
  t.name = "pascal";
  t.main = {semseg_task(21), human_parts_task(), sal_task(), normals_task(), edge_task()};
  t.auxiliary = t.main;
  return t;
}

TaskSet task_set_by_name(const std::string& name) {
  if (name == "nyud") return nyud_tasks();
  if (name == "nyud_aux") return nyud_aux_tasks();
  if (name == "pascal") return pascal_tasks();
  MTINET_FAIL("unknown task set '", name, "' (expected nyud, nyud_aux or pascal)");
}

const Tensor& feature_of(const std::map<std::string, Tensor>& features, const std::string& task, const char* what) {
  auto it = features.find(task);
  MTINET_CHECK(it != features.end(), what, ": no features for task '", task, "'");
  return it->second;
}

}  // namespace mtinet
