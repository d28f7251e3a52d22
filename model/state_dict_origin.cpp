#include "model/state_dict_origin.h"

#include <algorithm>
#include <set>
#include <sstream>
#include <vector>

#include "core/strings.h"
#include "model/tasks.h"

namespace mtinet {

namespace {

bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }
bool ends_with(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

std::vector<std::string> components(const std::string& key) {
  std::vector<std::string> out;
  std::stringstream ss(key);
  for (std::string c; std::getline(ss, c, '.');) out.push_back(c);
  return out;
}

bool is_small_index(const std::string& s) {
  return !s.empty() && s.size() <= 4 && std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

const std::vector<std::string>& known_tasks() {
  static const std::vector<std::string> t = {"semseg", "depth", "normals", "edge", "human_parts", "sal"};
  return t;
}

// The model kind from the top-level modules each one registers (model/mtinet.cpp, model/baselines.cpp).
std::string model_kind(const std::set<std::string>& top) {
  if (top.count("fpm_scale_1") || top.count("distillation_scale_0")) return "mtinet";
  if (top.count("initial_task_prediction_heads")) return "padnet";
  if (top.count("decoders")) return "baseline";
  if (top.count("decoder")) return "single_task";
  return "";
}

// HRNet variants differ in the stem width, the first branch's width and the Bottlenecks in layer1 (model/hrnet.cpp).
std::string backbone_name(const SafetensorsContents& file, const std::string& prefix) {
  int64_t stem = -1, width = -1, layer1_blocks = 0;
  for (const auto& [key, t] : file.tensors) {
    if (!starts_with(key, prefix)) continue;
    std::string k = key.substr(prefix.size());
    if (k == "conv1.weight" && t.ndim() == 4) stem = t.dim(0);
    if (ends_with(k, "transition1.0.0.weight") && t.ndim() == 4) width = t.dim(0);
    std::vector<std::string> c = components(k);  // layer1.<block>.conv1.weight
    for (size_t i = 0; i + 2 < c.size(); ++i)
      if (c[i] == "layer1" && c[i + 2] == "conv1" && is_small_index(c[i + 1]))
        layer1_blocks = std::max<int64_t>(layer1_blocks, std::stoll(c[i + 1]) + 1);
  }
  if (stem == 16) return "hrnet_tiny";
  if (width == 48) return "hrnet_w48";
  if (width == 18) return layer1_blocks >= 4 ? "hrnet_w18" : "hrnet_w18_small_v2";
  return "";
}

// The output channels of the last convolution under `prefix` (state_dict order puts a head's classifier last).
int64_t last_conv_outputs(const SafetensorsContents& file, const std::string& prefix) {
  int64_t out = -1;
  for (const auto& [key, t] : file.tensors)
    if (starts_with(key, prefix) && ends_with(key, ".weight") && t.ndim() == 4) out = t.dim(0);
  return out;
}

// The task set whose main and auxiliary tasks are exactly those the keys name.
std::string task_set(const std::set<std::string>& main, const std::set<std::string>& all) {
  for (const char* name : {"nyud", "nyud_aux", "pascal"}) {
    TaskSet ts = task_set_by_name(name);
    std::vector<std::string> m = ts.main_names(), a = ts.auxiliary_names();
    std::set<std::string> ts_main(m.begin(), m.end()), ts_all(a.begin(), a.end());
    ts_all.insert(m.begin(), m.end());
    if (ts_main == main && ts_all == all) return name;
  }
  return "";
}

// A single-task decoder tells its task only by its output channels (tasks.h); 1 channel fits three tasks.
std::string single_task_guess(int64_t channels) {
  switch (channels) {
    case 40: return "task \"semseg\" (40 classes: NYUD)";
    case 21: return "task \"semseg\" (21 classes: PASCAL)";
    case 7: return "task \"human_parts\"";
    case 3: return "task \"normals\"";
    case 1: return "a one-channel task (depth, edge or sal)";
    default: return "";
  }
}

}  // namespace

std::string guess_state_dict_origin(const SafetensorsContents& file) {
  std::set<std::string> top, main, all;
  for (const auto& [key, t] : file.tensors) {
    std::vector<std::string> c = components(key);
    if (c.empty()) continue;
    top.insert(c[0]);
    for (size_t i = 0; i < c.size(); ++i) {
      if (std::find(known_tasks().begin(), known_tasks().end(), c[i]) == known_tasks().end()) continue;
      all.insert(c[i]);
      // Final predictions hang off the top-level "heads" (MTI-Net, PAD-Net) or "decoders" (baseline); MTI-Net's
      // per-scale "scale_s.decoders" are the deep-supervised initial predictions of every auxiliary task.
      if (i == 1 && (c[0] == "heads" || c[0] == "decoders")) main.insert(c[i]);
    }
  }
  std::vector<std::string> parts;
  std::string kind = model_kind(top);
  if (kind.empty()) {
    // No head: a backbone alone, under our names or the HRNet classification code's (with its head).
    std::string bb = backbone_name(file, top.count("backbone") ? "backbone." : "");
    if (bb.empty()) return "";
    std::string what = "an HRNet backbone alone (backbone \"" + bb + "\"";
    if (top.count("classifier") || top.count("incre_modules")) what += ", with the ImageNet classification head";
    return what + "): pass it as 'backbone_weights', not as the weights of a whole model";
  }
  parts.push_back("model \"" + kind + "\"");
  // PAD-Net's backbone is nn.Sequential(HRNet, fuse): its HRNet keys sit under "backbone.0.".
  std::string bb = backbone_name(file, kind == "padnet" ? "backbone.0." : "backbone.");
  if (!bb.empty()) parts.push_back("backbone \"" + bb + "\"");
  if (kind == "single_task") {
    std::string t = single_task_guess(last_conv_outputs(file, "decoder."));
    if (!t.empty()) parts.push_back(t);
  } else {
    std::string ts = task_set(main, all);
    if (!ts.empty()) {
      parts.push_back("tasks \"" + ts + "\"");
    } else if (!all.empty()) {
      parts.push_back("tasks " + join(all, ",") + " (no built-in task set)");
    }
  }
  return join(parts, ", ");
}

}  // namespace mtinet
