// Evaluation metrics, one accumulator per task, built from the task name and the dataset's settings, and a set of
// them for a multi-task model (the reference's PerformanceMeter). Each metric lives in eval/metric_<family>.h.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "eval/metric.h"
#include "eval/metric_depth.h"
#include "eval/metric_edge.h"
#include "eval/metric_normals.h"
#include "eval/metric_saliency.h"
#include "eval/metric_segmentation.h"
#include "eval/multitask_delta.h"

namespace mtinet {

struct MetricOptions {
  std::string dataset = "nyud";       // names the segmentation classes in the results (eval/class_names.h)
  int64_t semseg_classes = 40;        // NYUD 40, PASCAL-Context 21
  int64_t human_parts_classes = 7;
  bool human_parts_skip_uniform = true;  // the reference's offline human-parts evaluation skips such images
  double edge_max_dist = 0.011;       // fraction of the diagonal: NYUD 0.011, PASCAL 0.0075
  int edge_thresholds = 99;
  bool edge_thin = true;              // thin each binarised edge map before matching, as SEISM does
};

// The settings of a dataset: "nyud" or "pascal" (PASCAL-Context).
MetricOptions metric_options_for(const std::string& dataset);

// A metric for a task: semseg, human_parts, depth, normals, sal, edge.
std::unique_ptr<Metric> make_metric(const std::string& task, const MetricOptions& options);

class MetricSet {
 public:
  MetricSet(const std::vector<std::string>& tasks, const MetricOptions& options);
  // preds and labels map task -> tensor; every task of the set must be present in both.
  void update(const std::map<std::string, Tensor>& preds, const std::map<std::string, Tensor>& labels);
  // {task: that metric's results()}.
  nlohmann::json results() const;
  void reset();
  // Every task's MetricState, one after the other in task-name order (the same layout for the same tasks and
  // options), and loading such a state back.
  MetricState state() const;
  void load_state(const MetricState& s);

 private:
  std::map<std::string, std::unique_ptr<Metric>> metrics_;
};

}  // namespace mtinet
