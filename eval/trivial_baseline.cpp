#include "eval/trivial_baseline.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <thread>

#include "core/error.h"
#include "eval/multitask_delta.h"

namespace mtinet {

namespace {

bool is_segmentation(const std::string& task) { return task == "semseg" || task == "human_parts"; }

// One sample's label statistics for one task, as plain sums so that samples add up in a fixed order:
// segmentation: pixels per class; depth: {sum, count}; normals: {sum x, sum y, sum z, count}; edge/sal: {positive,
// total}.
std::vector<double> label_sums(const TaskSpec& spec, const Tensor& map, const std::string& id) {
  const float* v = map.data<float>();
  int64_t pixels = map.dim(0) * map.dim(1);
  const std::string& t = spec.name;
  if (is_segmentation(t)) {
    std::vector<double> counts(size_t(spec.channels), 0.0);
    for (int64_t i = 0; i < pixels; ++i) {
      if (v[i] == 255.0f) continue;
      int64_t c = int64_t(v[i]);
      MTINET_CHECK(c >= 0 && c < spec.channels && float(c) == v[i], "trivial baseline: sample '", id, "' has ", t,
                   " label ", v[i], " outside [0, ", spec.channels, ") and not 255");
      counts[size_t(c)] += 1;
    }
    return counts;
  }
  if (t == "depth") {
    double sum = 0, n = 0;
    for (int64_t i = 0; i < pixels; ++i) {
      if (v[i] == 0.0f) continue;
      sum += v[i];
      n += 1;
    }
    return {sum, n};
  }
  if (t == "normals") {
    std::vector<double> s(4, 0.0);
    for (int64_t i = 0; i < pixels; ++i) {
      const float* n = v + 3 * i;
      double len = std::sqrt(double(n[0]) * n[0] + double(n[1]) * n[1] + double(n[2]) * n[2]);
      if (len == 0) continue;
      for (int k = 0; k < 3; ++k) s[size_t(k)] += n[k] / len;
      s[3] += 1;
    }
    return s;
  }
  if (t == "edge" || t == "sal") {
    double pos = 0;
    for (int64_t i = 0; i < pixels; ++i) pos += (t == "edge" ? v[i] >= 0.5f : v[i] > 0.5f) ? 1 : 0;
    return {pos, double(pixels)};
  }
  MTINET_FAIL("trivial baseline: unknown task '", t, "'");
}

// The constant raw output and its description from the split's summed statistics.
void fit_task(const TaskSpec& spec, const std::vector<double>& s, TrivialBaseline& out) {
  const std::string& t = spec.name;
  if (is_segmentation(t)) {
    size_t best = 0;
    double total = 0;
    for (size_t c = 0; c < s.size(); ++c) {
      total += s[c];
      if (s[c] > s[best]) best = c;  // first maximum on ties, as argmax
    }
    std::vector<double> logits(s.size(), 0.0);
    logits[best] = 1.0;
    out.raw[t] = logits;
    out.fitted[t] = {{"class", best}, {"pixel_fraction", total > 0 ? s[best] / total : 0.0}};
  } else if (t == "depth") {
    double mean = s[1] > 0 ? s[0] / s[1] : 0.0;
    out.raw[t] = {mean};
    out.fitted[t] = {{"mean", mean}, {"n_valid", s[1]}};
  } else if (t == "normals") {
    double len = std::sqrt(s[0] * s[0] + s[1] * s[1] + s[2] * s[2]);
    std::vector<double> n = len > 0 ? std::vector<double>{s[0] / len, s[1] / len, s[2] / len}
                                    : std::vector<double>{0.0, 0.0, 1.0};
    out.raw[t] = n;
    out.fitted[t] = {{"mean", n}, {"n_valid", s[3]}};
  } else {  // edge, sal: a constant probability, as its logit
    double p = s[1] > 0 ? s[0] / s[1] : 0.0;
    double q = std::min(std::max(p, 1e-6), 1.0 - 1e-6);
    out.raw[t] = {std::log(q / (1.0 - q))};
    out.fitted[t] = {{"positive_fraction", p}};
  }
}

}  // namespace

BatchPredictor TrivialBaseline::predictor(Device device, DType dtype) const {
  std::map<std::string, std::vector<double>> values = raw;
  return [values, device, dtype](const Tensor& images) {
    int64_t n = images.dim(0);
    std::map<std::string, Tensor> out;
    for (const auto& [task, v] : values) {
      int64_t k = int64_t(v.size());
      std::vector<double> filled(size_t(n * k));
      for (int64_t i = 0; i < n * k; ++i) filled[size_t(i)] = v[size_t(i % k)];
      out[task] = Tensor::from_vector<double>({n, 1, 1, k}, filled).to(dtype).to(device);
    }
    return out;
  };
}

TrivialBaseline fit_trivial_baseline(const Dataset& train, const std::vector<TaskSpec>& tasks, int threads) {
  MTINET_CHECK(train.size() > 0, "trivial baseline: ", train.name(), " is empty");
  size_t n = train.size();
  // per_sample[i][task index]: sums of sample i, reduced below in sample order (deterministic for any thread count).
  std::vector<std::vector<std::vector<double>>> per_sample(n);
  std::vector<std::exception_ptr> errors(n);
  size_t workers = std::max<size_t>(1, std::min<size_t>(n, size_t(std::max(1, threads))));
  std::vector<std::thread> pool;
  for (size_t w = 0; w < workers; ++w) {
    pool.emplace_back([&, w] {
      for (size_t i = w; i < n; i += workers) {
        try {
          Sample s = train.load(i);
          for (const TaskSpec& spec : tasks) {
            auto f = s.fields.find(spec.name);
            MTINET_CHECK(f != s.fields.end(), "trivial baseline: sample '", s.id, "' of ", train.name(), " has no '",
                         spec.name, "' label");
            per_sample[i].push_back(label_sums(spec, f->second.map, s.id));
          }
        } catch (...) {
          errors[i] = std::current_exception();
        }
      }
    });
  }
  for (std::thread& t : pool) t.join();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);

  TrivialBaseline out;
  out.fitted = nlohmann::json::object();
  for (size_t k = 0; k < tasks.size(); ++k) {
    std::vector<double> total = per_sample[0][k];
    for (size_t i = 1; i < n; ++i)
      for (size_t j = 0; j < total.size(); ++j) total[j] += per_sample[i][k][j];
    fit_task(tasks[k], total, out);
  }
  return out;
}

nlohmann::json evaluate_trivial_baseline(const TrivialBaseline& baseline, const TaskSet& tasks, const Dataset& val,
                                         const EvalSettings& settings) {
  return evaluate_predictor(baseline.predictor(settings.device, settings.dtype), tasks.main_names(),
                            metric_options_for_tasks(tasks), val, settings);
}

TrivialComparison beats_trivial(const nlohmann::json& model_results, const nlohmann::json& trivial_results) {
  MTINET_CHECK(model_results.is_object() && trivial_results.is_object(),
               "trivial comparison: results must be JSON objects");
  TrivialComparison c;
  for (const auto& item : model_results.items()) {
    const std::string& task = item.key();
    TaskHeadline h = task_headline(task);
    MTINET_CHECK(trivial_results.contains(task), "trivial comparison: no trivial-baseline results for '", task, "'");
    auto value = [&](const nlohmann::json& r, const char* which) {
      const nlohmann::json& t = r.at(task);
      MTINET_CHECK(t.is_object() && t.contains(h.key) && t.at(h.key).is_number(), "trivial comparison: the ", which,
                   " results of '", task, "' have no number '", h.key, "'");
      return t.at(h.key).get<double>();
    };
    TrivialComparisonRow row;
    row.task = task;
    row.metric = h.key;
    row.model = value(model_results, "model");
    row.trivial = value(trivial_results, "trivial");
    row.lower_is_better = h.lower_is_better;
    row.beats = h.lower_is_better ? row.model < row.trivial : row.model > row.trivial;  // false for NaN
    c.beaten += row.beats ? 1 : 0;
    c.rows.push_back(row);
  }
  c.all_beat = !c.rows.empty() && c.beaten == int(c.rows.size());
  return c;
}

std::string TrivialComparison::summary() const {
  return "the model beats the trivial baseline on " + std::to_string(beaten) + " of " + std::to_string(rows.size()) +
         " tasks" + (all_beat ? "" : " (NOT all)");
}

nlohmann::json TrivialComparison::to_json() const {
  nlohmann::json tasks = nlohmann::json::object();
  for (const TrivialComparisonRow& r : rows)
    tasks[r.task] = {{"metric", r.metric}, {"model", r.model}, {"trivial", r.trivial},
                     {"lower_is_better", r.lower_is_better}, {"beats", r.beats}};
  return {{"tasks", tasks}, {"all_beat", all_beat}, {"beaten", beaten}, {"summary", summary()}};
}

std::string TrivialComparison::table() const {
  std::string s;
  char line[160];
  std::snprintf(line, sizeof(line), "%-12s | %-20s | %10s | %10s | %s\n", "task", "metric", "model", "trivial", "beats");
  s += line;
  for (const TrivialComparisonRow& r : rows) {
    std::string metric = r.metric + (r.lower_is_better ? " (lower better)" : " (higher better)");
    std::snprintf(line, sizeof(line), "%-12s | %-20s | %10.4f | %10.4f | %s\n", r.task.c_str(), metric.c_str(),
                  r.model, r.trivial, r.beats ? "yes" : "NO");
    s += line;
  }
  s += summary() + "\n";
  return s;
}

}  // namespace mtinet
