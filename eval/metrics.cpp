#include "eval/metrics.h"

#include "eval/class_names.h"

namespace mtinet {

MetricOptions metric_options_for(const std::string& dataset) {
  MetricOptions o;
  o.dataset = dataset;
  if (dataset == "nyud") {
    o.semseg_classes = 40;
    o.edge_max_dist = 0.011;
  } else if (dataset == "pascal") {
    o.semseg_classes = 21;
    o.edge_max_dist = 0.0075;
  } else {
    MTINET_FAIL("metrics: unknown dataset '", dataset, "' (expected nyud or pascal)");
  }
  return o;
}

std::unique_ptr<Metric> make_metric(const std::string& task, const MetricOptions& options) {
  if (task == "semseg" || task == "human_parts") {
    bool parts = task == "human_parts";
    int64_t classes = parts ? options.human_parts_classes : options.semseg_classes;
    auto m = std::make_unique<SegmentationMetric>(classes, parts && options.human_parts_skip_uniform);
    m->set_class_names(class_names_for(options.dataset, task, classes));
    return m;
  }
  if (task == "depth") return std::make_unique<DepthMetric>();
  if (task == "normals") return std::make_unique<NormalsMetric>();
  if (task == "sal") return std::make_unique<SaliencyMetric>();
  if (task == "edge") return std::make_unique<EdgeMetric>(options.edge_max_dist, options.edge_thresholds, options.edge_thin);
  MTINET_FAIL("metrics: unknown task '", task, "'");
}

MetricSet::MetricSet(const std::vector<std::string>& tasks, const MetricOptions& options) {
  for (const std::string& t : tasks) metrics_[t] = make_metric(t, options);
}

void MetricSet::update(const std::map<std::string, Tensor>& preds, const std::map<std::string, Tensor>& labels) {
  for (auto& [task, metric] : metrics_) {
    auto p = preds.find(task);
    auto y = labels.find(task);
    MTINET_CHECK(p != preds.end(), "metrics: no prediction for task '", task, "'");
    MTINET_CHECK(y != labels.end(), "metrics: no label for task '", task, "'");
    metric->update(p->second, y->second);
  }
}

nlohmann::json MetricSet::results() const {
  nlohmann::json r = nlohmann::json::object();
  for (const auto& [task, metric] : metrics_) r[task] = metric->results();
  return r;
}

void MetricSet::reset() {
  for (auto& item : metrics_) item.second->reset();
}

}  // namespace mtinet
