// compare_eval A B [--rtol R] [--approx KEY]...: compares two evaluations' results, metric by metric. A and B are a
// results.json of `mtinet eval` (its "results"), a metrics.jsonl of training (its last "eval" record) or a bare
// {task: metrics} JSON. Every number must be equal bit for bit, except under an --approx KEY (a task name, a metric
// name under any task, or task.metric), where |a - b| <= rtol * max(|a|, |b|). Exit 0 when all agree, 1 when not,
// 2 on bad usage. Prints how many numbers were compared each way and the largest relative difference.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "train/json_file.h"

namespace {

nlohmann::json load_results(const std::string& path) {
  if (path.size() > 6 && path.substr(path.size() - 6) == ".jsonl") {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read '" + path + "'");
    nlohmann::json last;
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      nlohmann::json j = nlohmann::json::parse(line);
      if (j.contains("eval")) last = j["eval"];
    }
    if (last.is_null()) throw std::runtime_error("'" + path + "' holds no eval record");
    return last;
  }
  nlohmann::json j = mtinet::read_json_file(path, "results");
  return j.contains("results") ? j["results"] : j;
}

struct Comparison {
  std::set<std::string> approx;
  double rtol = 0;
  size_t exact = 0, within = 0, differ = 0;
  double worst = 0;
  std::string worst_path = "(none)";

  bool is_approx(const std::string& task, const std::string& metric) const {
    return approx.count(task) || approx.count(metric) || approx.count(task + "." + metric);
  }
  void mismatch(const std::string& path, const std::string& what) {
    if (++differ <= 10) std::printf("  %s: %s\n", path.c_str(), what.c_str());
  }
  // `task` and `metric` are the first two keys on the way down (the task, then the metric).
  void walk(const nlohmann::json& a, const nlohmann::json& b, const std::string& path, const std::string& task,
            const std::string& metric) {
    if (a.is_number() && b.is_number()) {
      double x = a.get<double>(), y = b.get<double>();
      double scale = std::max(std::fabs(x), std::fabs(y));
      double rel = x == y ? 0 : (scale > 0 ? std::fabs(x - y) / scale : INFINITY);
      if (rel > worst) worst = rel, worst_path = path;
      if (is_approx(task, metric)) {
        ++within;
        if (!(rel <= rtol)) mismatch(path, std::to_string(x) + " vs " + std::to_string(y) + " (rel " + std::to_string(rel) + ")");
      } else {
        ++exact;
        if (x != y) mismatch(path, std::to_string(x) + " vs " + std::to_string(y) + " (must be equal)");
      }
      return;
    }
    if (a.type() != b.type()) return mismatch(path, "different JSON types");
    if (a.is_object()) {
      for (const auto& [key, value] : a.items()) {
        if (!b.contains(key)) { mismatch(path + "." + key, "in A only"); continue; }
        walk(value, b[key], path + "." + key, task.empty() ? key : task, task.empty() ? "" : (metric.empty() ? key : metric));
      }
      for (const auto& item : b.items())
        if (!a.contains(item.key())) mismatch(path + "." + item.key(), "in B only");
    } else if (a.is_array()) {
      if (a.size() != b.size()) return mismatch(path, "arrays of different lengths");
      for (size_t i = 0; i < a.size(); ++i) walk(a[i], b[i], path + "[" + std::to_string(i) + "]", task, metric);
    } else if (a != b) {
      mismatch(path, a.dump() + " vs " + b.dump());
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: compare_eval A B [--rtol R] [--approx KEY]...\n");
    return 2;
  }
  Comparison c;
  for (int i = 3; i < argc; ++i) {
    if (std::strcmp(argv[i], "--rtol") == 0 && i + 1 < argc) c.rtol = std::atof(argv[++i]);
    else if (std::strcmp(argv[i], "--approx") == 0 && i + 1 < argc) c.approx.insert(argv[++i]);
    else { std::fprintf(stderr, "compare_eval: unknown argument '%s'\n", argv[i]); return 2; }
  }
  try {
    nlohmann::json a = load_results(argv[1]), b = load_results(argv[2]);
    if (!a.is_object() || a.empty()) throw std::runtime_error(std::string("no results in '") + argv[1] + "'");
    c.walk(a, b, "", "", "");
    std::printf("%zu numbers equal bit for bit, %zu within rtol %g; largest relative difference %.3g at %s\n",
                c.exact, c.within, c.rtol, c.worst, c.worst_path.c_str());
    if (c.differ > 0) {
      std::printf("%zu difference(s)\n", c.differ);
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "compare_eval: %s\n", e.what());
    return 2;
  }
}
