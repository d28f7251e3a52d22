// Evaluation results ({task: metrics}, as evaluate_model returns them) as plain-text tables for the terminal; the
// JSON files keep everything, these show what a person reads first.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace mtinet {

// One row per scalar metric, tasks and metrics in the JSON's (alphabetical) order; counts print as integers:
//   task         | metric               |      value
//   semseg       | mIoU                 |     0.3512
std::string metrics_table(const nlohmann::json& results);

// For each segmentation task with class names (eval/class_names.h): class index, name and IoU, one row per class.
// Empty when no task has them.
std::string per_class_iou_table(const nlohmann::json& results);

}  // namespace mtinet
