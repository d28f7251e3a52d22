// The single-task results a multi-task delta is measured against, from wherever the user keeps them: the config's
// "single_task_results" ({task: results file or inline metrics}) and `mtinet eval --single-task-results
// task=FILE` (which take precedence, task by task). A results file is either kind `mtinet eval` writes: the
// per-task <task>.json ({"mIoU": ...}) or the combined results.json ({"results": {task: ...}}); a bare
// {task: metrics} object is read too.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mtinet {

// The metrics of `task` in the results file at `path`; throws naming the file when it cannot be read or holds no
// metrics for the task's headline (eval/multitask_delta.h).
nlohmann::json task_results_from_file(const std::string& path, const std::string& task);

// spec: {task: file name or metrics object}. Returns {task: metrics} for every task of `tasks`, or an empty object
// when spec names none of them; throws naming the tasks missing when it names some but not all (a delta over a
// subset of the tasks would not be the paper's dm), and naming a task spec holds that `tasks` lacks.
nlohmann::json resolve_single_task_results(const nlohmann::json& spec, const std::vector<std::string>& tasks);

}  // namespace mtinet
