#include "eval/single_task_results.h"

#include <algorithm>

#include "core/error.h"
#include "eval/multitask_delta.h"
#include "train/json_file.h"

namespace mtinet {

nlohmann::json task_results_from_file(const std::string& path, const std::string& task) {
  nlohmann::json j = read_json_file(path, "single-task results");
  nlohmann::json r = j;
  if (j.is_object() && j.contains("results") && j["results"].is_object() && j["results"].contains(task))
    r = j["results"][task];
  else if (j.is_object() && j.contains(task) && j[task].is_object())
    r = j[task];
  const char* key = task_headline(task).key;
  MTINET_CHECK(r.is_object() && r.contains(key) && r[key].is_number(), "single-task results '", path, "': no '", key,
               "' for task '", task, "' (expected a <task>.json or results.json written by `mtinet eval`)");
  return r;
}

nlohmann::json resolve_single_task_results(const nlohmann::json& spec, const std::vector<std::string>& tasks) {
  MTINET_CHECK(spec.is_object(), "single-task results: expected {task: results file or metrics}, got ", spec.dump());
  nlohmann::json out = nlohmann::json::object();
  for (auto it = spec.begin(); it != spec.end(); ++it) {
    const std::string& task = it.key();
    MTINET_CHECK(std::find(tasks.begin(), tasks.end(), task) != tasks.end(), "single-task results: '", task,
                 "' is not a main task of this model");
    if (it.value().is_string()) {
      out[task] = task_results_from_file(it.value().get<std::string>(), task);
    } else {
      const char* key = task_headline(task).key;
      MTINET_CHECK(it.value().is_object() && it.value().contains(key) && it.value()[key].is_number(),
                   "single-task results of '", task, "': expected a results file name or metrics with a number '",
                   key, "', got ", it.value().dump());
      out[task] = it.value();
    }
  }
  if (out.empty()) return out;
  std::string missing;
  for (const std::string& t : tasks)
    if (!out.contains(t)) missing += (missing.empty() ? "" : ", ") + t;
  MTINET_CHECK(missing.empty(), "single-task results: the multi-task delta needs every main task; missing: ", missing);
  return out;
}

}  // namespace mtinet
