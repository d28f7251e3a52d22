// Builds a model from a small config, e.g. from JSON:
//   {"model": "mtinet"|"baseline"|"single_task"|"padnet",
//    "backbone": "hrnet_w18_small_v2"|"hrnet_w18"|"hrnet_w48"|"hrnet_tiny" (tests and smoke runs only),
//    "tasks": "nyud"|"nyud_aux"|"pascal", "task": "<name>" (single_task only), "seed": <int>,
//    "fpm_grouping": "reference"|"paper" (mtinet only; see FpmGrouping)}
// Every key is optional except "task" for single_task; unknown keys or values throw an Error naming them.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "model/network.h"

namespace mtinet {

struct ModelConfig {
  std::string model = "mtinet";
  std::string backbone = "hrnet_w18_small_v2";
  std::string tasks = "nyud";
  std::string task;   // the single task of a single_task model
  uint64_t seed = 0;  // initialisation seed
  std::string fpm_grouping = "reference";  // MTI-Net FPM mask: "reference" code or "paper" reading

  static ModelConfig from_json(const nlohmann::json& j);
  nlohmann::json to_json() const;
};

std::shared_ptr<MultiTaskNetwork> build_model(const ModelConfig& config);
std::shared_ptr<MultiTaskNetwork> build_model(const nlohmann::json& config);

}  // namespace mtinet
