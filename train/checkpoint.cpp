#include "train/checkpoint.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <regex>

#include "core/fault_injection.h"
#include "core/safetensors.h"

namespace mtinet {

namespace fs = std::filesystem;

namespace {
constexpr const char* kWeightsSuffix = ".weights.safetensors";
constexpr const char* kStateSuffix = ".state.safetensors";
}  // namespace

CheckpointPaths checkpoint_paths(const std::string& dir, int64_t step) {
  char name[32];
  std::snprintf(name, sizeof(name), "step_%08lld", static_cast<long long>(step));
  return {dir + "/" + name + kWeightsSuffix, dir + "/" + name + kStateSuffix};
}

namespace {
constexpr const char* kStateFormat = "mtinet-training-state-1";  // a state file's "format" metadata
}  // namespace

bool is_training_state(const SafetensorsContents& file) {
  auto format = file.metadata.find("format");
  return format != file.metadata.end() && format->second == kStateFormat;
}

CheckpointPaths checkpoint_paths_of_state(const std::string& state_path) {
  const std::string suffix = kStateSuffix;
  size_t n = state_path.size();
  MTINET_CHECK(n > suffix.size() && state_path.compare(n - suffix.size(), suffix.size(), suffix) == 0,
               "expected a checkpoint's '*", suffix, "' file, got '", state_path, "'");
  return {state_path.substr(0, n - suffix.size()) + kWeightsSuffix, state_path};
}

void write_training_state(const std::string& path, const TrainingState& s, const std::string& config_json) {
  std::map<std::string, std::string> meta = {
      {"format", kStateFormat},
      {"step", std::to_string(s.step)},
      {"loader_epoch", std::to_string(s.loader.epoch)},
      {"loader_next_batch", std::to_string(s.loader.next_batch)},
      {"config", config_json},
  };
  save_safetensors(path, s.tensors, meta);
}

TrainingState read_training_state(const std::string& path) {
  SafetensorsContents f = load_safetensors(path);
  auto meta = [&](const std::string& key) -> int64_t {
    auto it = f.metadata.find(key);
    MTINET_CHECK(it != f.metadata.end(), "training state '", path, "' lacks '", key, "' (not an mtinet checkpoint?)");
    try {
      return std::stoll(it->second);
    } catch (...) {
      MTINET_FAIL("training state '", path, "': bad value for '", key, "': ", it->second);
    }
  };
  TrainingState s;
  s.step = meta("step");
  s.loader = {meta("loader_epoch"), meta("loader_next_batch")};
  s.tensors = f.tensors;
  auto config = f.metadata.find("config");
  if (config != f.metadata.end()) s.config_json = config->second;
  return s;
}

namespace {
// Epoch numbers of the complete checkpoints in dir, ascending.
std::vector<int64_t> checkpoint_epochs(const std::string& dir) {
  std::vector<int64_t> epochs;
  if (!fs::is_directory(dir)) return epochs;
  static const std::regex re(R"(step_(\d+)\.state\.safetensors)");
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::smatch m;
    std::string name = entry.path().filename().string();
    if (!std::regex_match(name, m, re)) continue;
    int64_t e = std::stoll(m[1].str());
    if (fs::exists(checkpoint_paths(dir, e).weights)) epochs.push_back(e);
  }
  std::sort(epochs.begin(), epochs.end());
  return epochs;
}
}  // namespace

void prune_checkpoints(const std::string& dir, int keep_last) {
  std::vector<int64_t> epochs = checkpoint_epochs(dir);
  for (size_t i = 0; i + size_t(keep_last) < epochs.size(); ++i) {
    CheckpointPaths p = checkpoint_paths(dir, epochs[i]);
    fs::remove(p.state);  // state first: a weights file without state is never mistaken for a checkpoint
    fault_point("checkpoint.mid_prune");
    fs::remove(p.weights);
  }
}

std::optional<CheckpointPaths> latest_checkpoint(const std::string& dir) {
  std::vector<int64_t> epochs = checkpoint_epochs(dir);
  if (epochs.empty()) return std::nullopt;
  return checkpoint_paths(dir, epochs.back());
}

std::vector<CheckpointPaths> complete_checkpoints(const std::string& dir) {
  std::vector<int64_t> steps = checkpoint_epochs(dir);
  std::vector<CheckpointPaths> out;
  for (auto it = steps.rbegin(); it != steps.rend(); ++it) out.push_back(checkpoint_paths(dir, *it));
  return out;
}

namespace {
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A leftover of an interrupted write: a '.tmp' file (killed before its rename), or a checkpoint's weights whose state
// file was never written (the state is written second, so its absence marks the checkpoint as incomplete).
bool is_leftover(const fs::path& file) {
  std::string name = file.filename().string();
  if (ends_with(name, ".tmp")) return true;
  static const std::regex weights_re(R"(step_\d+\.weights\.safetensors)");
  if (!std::regex_match(name, weights_re)) return false;
  std::string stem = name.substr(0, name.size() - std::string(kWeightsSuffix).size());
  return !fs::exists(file.parent_path() / (stem + kStateSuffix));
}
}  // namespace

std::vector<std::string> remove_checkpoint_leftovers(const std::string& dir) {
  std::vector<std::string> removed;
  if (!fs::is_directory(dir)) return removed;
  std::vector<fs::path> doomed;  // collected first: removing entries while iterating a directory is unspecified
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_regular_file() && is_leftover(entry.path())) doomed.push_back(entry.path());
  std::sort(doomed.begin(), doomed.end());
  for (const fs::path& p : doomed) {
    std::error_code ec;  // one that cannot be removed (permissions) stays; training does not depend on it
    if (fs::remove(p, ec)) removed.push_back(p.filename().string());
  }
  return removed;
}

}  // namespace mtinet
