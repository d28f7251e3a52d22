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

MetricState MetricSet::state() const {
  MetricState all;
  for (const auto& [task, metric] : metrics_) {
    MetricState s = metric->state();
    all.counts.insert(all.counts.end(), s.counts.begin(), s.counts.end());
    all.sums.insert(all.sums.end(), s.sums.begin(), s.sums.end());
  }
  return all;
}

void MetricSet::load_state(const MetricState& all) {
  size_t counts = 0, sums = 0;
  for (const auto& item : metrics_) {
    MetricState own = item.second->state();  // for its size
    counts += own.counts.size(), sums += own.sums.size();
  }
  all.check_size("metric set", counts, sums);
  size_t c = 0, d = 0;
  for (auto& [task, metric] : metrics_) {
    MetricState own = metric->state();
    MetricState part;
    part.counts.assign(all.counts.begin() + std::ptrdiff_t(c), all.counts.begin() + std::ptrdiff_t(c + own.counts.size()));
    part.sums.assign(all.sums.begin() + std::ptrdiff_t(d), all.sums.begin() + std::ptrdiff_t(d + own.sums.size()));
    c += own.counts.size(), d += own.sums.size();
    metric->load_state(part);
  }
}

}  // namespace mtinet
