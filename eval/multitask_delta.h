// The multi-task performance measure of the reference (Maninis et al. / Vandenhende et al.):
//   dm = (1/T) sum_t (-1)^{l_t} (M_mtl,t - M_stl,t) / M_stl,t * 100,  l_t = 1 when lower is better,
// over the tasks' headline metrics: depth "rmse" (lower), semseg / human_parts / sal "mIoU" (higher), normals
// "mean" angle (lower), edge "odsF" (higher).
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace mtinet {

struct TaskHeadline {
  const char* key;       // the results() key compared
  bool lower_is_better;
};
// The headline metric of a task; throws for a task without one.
TaskHeadline task_headline(const std::string& task);

// mtl and stl map task name -> that task's results() (as the multi-task run and the single-task runs wrote them);
// they must name the same tasks. Returns {"dm": percent, "per_task": {task: signed relative gain in percent}}.
nlohmann::json multitask_delta(const nlohmann::json& mtl, const nlohmann::json& stl);

}  // namespace mtinet
