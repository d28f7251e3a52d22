#include "train/weights_metadata.h"

#include <nlohmann/json.hpp>

#include "core/strings.h"
#include "tools/version.h"  // header-only: the one place the version is written down

namespace mtinet {

namespace {

// Names as the paper writes them; anything unknown (a newer mtinet's model) is shown as stored.
std::string pretty(const std::string& value) {
  static const std::map<std::string, std::string> names = {
      {"mtinet", "MTI-Net"},
      {"baseline", "multi-task baseline"},
      {"single_task", "single-task"},
      {"padnet", "PAD-Net"},
      {"hrnet_w18_small_v2", "HRNet-W18-small-v2"},
      {"hrnet_w18", "HRNet-W18"},
      {"hrnet_w48", "HRNet-W48"},
      {"hrnet_tiny", "HRNet-tiny"},
      {"nyud", "NYUD"},
      {"nyud_aux", "NYUD"},
      {"pascal", "PASCAL-Context"},
  };
  auto it = names.find(value);
  return it == names.end() ? value : it->second;
}

std::string get(const std::map<std::string, std::string>& m, const char* key) {
  auto it = m.find(key);
  return it == m.end() ? "" : it->second;
}

}  // namespace

std::map<std::string, std::string> weights_metadata(const TrainConfig& config, const TaskSet& tasks) {
  std::map<std::string, std::string> m = {
      {"format", "pt"},
      {kMetaConfig, config.source.dump()},
      {kMetaModel, config.model.to_json().dump()},
      {kMetaTasks, join(tasks.main_names(), ",")},
      {kMetaVersion, kVersion},
  };
  if (tasks.auxiliary_names() != tasks.main_names()) m[kMetaAuxiliary] = join(tasks.auxiliary_names(), ",");
  return m;
}

std::string describe_weights_origin(const SafetensorsContents& file) {
  const std::string model_json = get(file.metadata, kMetaModel), tasks = get(file.metadata, kMetaTasks);
  const std::string auxiliary = get(file.metadata, kMetaAuxiliary), version = get(file.metadata, kMetaVersion);
  if (model_json.empty() && tasks.empty() && version.empty()) return "";
  std::string model;
  try {
    nlohmann::json j = nlohmann::json::parse(model_json);
    for (const char* key : {"model", "backbone", "tasks"}) {
      if (j.contains(key) && j[key].is_string()) model += (model.empty() ? "" : " ") + pretty(j[key].get<std::string>());
    }
  } catch (const std::exception&) {
    model = model_json.substr(0, 80);  // not JSON: show (the start of) it as it is
  }
  std::string line = "trained as";
  if (!model.empty()) line += " " + model;
  if (!tasks.empty()) line += " tasks " + tasks;
  if (!auxiliary.empty()) line += " (auxiliary " + auxiliary + ")";
  if (!version.empty()) line += " by mtinet " + version;
  return line;
}

}  // namespace mtinet
