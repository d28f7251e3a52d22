#include "eval/metrics_table.h"

#include <cstdio>

namespace mtinet {

std::string metrics_table(const nlohmann::json& results) {
  std::string s;
  char line[200];
  std::snprintf(line, sizeof(line), "%-12s | %-20s | %10s\n", "task", "metric", "value");
  s += line;
  for (const auto& [task, metrics] : results.items()) {
    if (!metrics.is_object()) continue;
    for (const auto& [name, v] : metrics.items()) {
      if (v.is_number_integer()) {
        std::snprintf(line, sizeof(line), "%-12s | %-20s | %10lld\n", task.c_str(), name.c_str(), v.get<long long>());
      } else if (v.is_number()) {
        std::snprintf(line, sizeof(line), "%-12s | %-20s | %10.4f\n", task.c_str(), name.c_str(), v.get<double>());
      } else {
        continue;  // per-class arrays and names: per_class_iou_table and the JSON
      }
      s += line;
    }
  }
  return s;
}

std::string per_class_iou_table(const nlohmann::json& results) {
  std::string s;
  char line[200];
  for (const auto& [task, metrics] : results.items()) {
    if (!metrics.is_object() || !metrics.contains("class_names") || !metrics.contains("jaccards_all_categs")) continue;
    const nlohmann::json& names = metrics["class_names"];
    const nlohmann::json& iou = metrics["jaccards_all_categs"];
    if (!names.is_array() || !iou.is_array() || names.size() != iou.size()) continue;
    std::snprintf(line, sizeof(line), "%-12s | %5s | %-20s | %10s\n", "task", "class", "name", "IoU");
    s += line;
    for (size_t k = 0; k < names.size(); ++k) {
      std::snprintf(line, sizeof(line), "%-12s | %5zu | %-20s | %10.4f\n", task.c_str(), k,
                    names[k].get<std::string>().c_str(), iou[k].get<double>());
      s += line;
    }
  }
  return s;
}

}  // namespace mtinet
