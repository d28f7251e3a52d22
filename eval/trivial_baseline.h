// Trivial baselines: constant predictors fitted to the training split's labels, evaluated with the same metrics as
// a model, so that "the model learned something" is a checkable claim (a model that does not beat a constant has
// not). Per task:
//   semseg, human_parts: the majority class by pixel count (labels 255 ignored);
//   depth: the mean valid depth (label != 0);
//   normals: the mean of the valid normals (non-zero labels, each normalised), normalised;
//   edge, sal: the fraction of positive pixels (edge >= 0.5, sal > 0.5), predicted as a constant probability.
#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "eval/evaluate.h"
#include "model/tasks.h"

namespace mtinet {

struct TrivialBaseline {
  // The constant raw output per task (what a network would output: one-hot logits, depth, normal, logit).
  std::map<std::string, std::vector<double>> raw;
  // What was fitted, readable: {"semseg": {"class": k, "pixel_fraction": f}, "depth": {"mean": m}, ...}.
  nlohmann::json fitted;
  // A predictor giving raw outputs as {N, 1, 1, K} maps (resized to each label's size by the evaluation).
  BatchPredictor predictor(Device device, DType dtype) const;
};

// Fits the baseline of `tasks` (main-task specs: names and channel counts) from every sample of `train`.
TrivialBaseline fit_trivial_baseline(const Dataset& train, const std::vector<TaskSpec>& tasks, int threads = 2);

// Evaluates the baseline on `val` with the same metrics a model of `tasks` gets.
nlohmann::json evaluate_trivial_baseline(const TrivialBaseline& baseline, const TaskSet& tasks, const Dataset& val,
                                         const EvalSettings& settings);

struct TrivialComparisonRow {
  std::string task, metric;
  double model = 0, trivial = 0;
  bool lower_is_better = false;
  bool beats = false;  // strictly better than the trivial baseline
};

struct TrivialComparison {
  std::vector<TrivialComparisonRow> rows;  // one per task of the model's results, in task-name order
  bool all_beat = false;
  int beaten = 0;
  nlohmann::json to_json() const;  // {"tasks": {task: {metric, model, trivial, lower_is_better, beats}}, "all_beat", "summary"}
  std::string summary() const;     // e.g. "the model beats the trivial baseline on 2 of 2 tasks"
  std::string table() const;       // task | metric | model | trivial | beats, one line per task
};

// Compares each task's headline metric (eval/multitask_delta.h task_headline) of the model's results with the
// trivial baseline's; both map task -> results(). Every task of model_results must be in trivial_results.
TrivialComparison beats_trivial(const nlohmann::json& model_results, const nlohmann::json& trivial_results);

}  // namespace mtinet
