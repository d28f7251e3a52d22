#include "eval/multitask_delta.h"

#include "core/error.h"

namespace mtinet {

TaskHeadline task_headline(const std::string& task) {
  if (task == "depth") return {"rmse", true};
  if (task == "semseg" || task == "human_parts" || task == "sal") return {"mIoU", false};
  if (task == "normals") return {"mean", true};
  if (task == "edge") return {"odsF", false};
  MTINET_FAIL("multi-task delta: no headline metric for task '", task, "'");
}

namespace {

double headline_value(const nlohmann::json& results, const char* which, const std::string& task, const char* key) {
  MTINET_CHECK(results.contains(task), "multi-task delta: the ", which, " results have no task '", task, "'");
  const nlohmann::json& r = results.at(task);
  MTINET_CHECK(r.is_object() && r.contains(key) && r.at(key).is_number(), "multi-task delta: the ", which,
               " results of '", task, "' have no number '", key, "'");
  return r.at(key).get<double>();
}

}  // namespace

nlohmann::json multitask_delta(const nlohmann::json& mtl, const nlohmann::json& stl) {
  MTINET_CHECK(mtl.is_object() && stl.is_object(), "multi-task delta: results must be JSON objects");
  MTINET_CHECK(!stl.empty(), "multi-task delta: no tasks");
  for (const auto& item : mtl.items()) {
    MTINET_CHECK(stl.contains(item.key()), "multi-task delta: task '", item.key(),
                 "' has multi-task results but no single-task results");
  }
  nlohmann::json per_task = nlohmann::json::object();
  double total = 0;
  for (const auto& item : stl.items()) {
    const std::string& task = item.key();
    TaskHeadline h = task_headline(task);
    double m = headline_value(mtl, "multi-task", task, h.key);
    double s = headline_value(stl, "single-task", task, h.key);
    MTINET_CHECK(s != 0, "multi-task delta: the single-task '", h.key, "' of '", task, "' is 0");
    double gain = (h.lower_is_better ? -1.0 : 1.0) * (m - s) / s * 100.0;
    per_task[task] = gain;
    total += gain;
  }
  nlohmann::json out;
  out["dm"] = total / double(stl.size());
  out["per_task"] = per_task;
  return out;
}

}  // namespace mtinet
