// mtinet summary: the size and cost of a configured model. Builds the model of a training config, runs one forward
// in eval mode without autograd on zeros with MAC counting on, and prints the module tree (parameters, forward
// multiply-accumulates of its convolutions and linear layers, output shape of its last one), the totals, and an
// estimate of the activation memory of training: the bytes of the distinct tensors one training forward (batch 1,
// train mode, with the losses, whose deep supervision upsamples to full resolution) keeps for backward.
// With --weights, describes a weights file: its tensors and the metadata mtinet wrote into it (training config,
// model, tasks, version; train/weights_metadata.h).
#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/autograd.h"
#include "core/rng.h"
#include "core/tensor.h"
#include "eval/model_summary.h"
#include "model/factory.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "train/config.h"
#include "data/synthetic_batch.h"
#include "train/task_losses.h"
#include "train/weights_file.h"
#include "train/weights_metadata.h"

namespace mtinet {

namespace {

void print_usage() {
  std::printf(
      "usage: mtinet summary --config FILE [--size HxW] [--batch B] [--depth D] [--no-memory] [--weights W]\n"
      "       mtinet summary --weights W\n\n"
      "Prints the model's module tree with parameters and forward MACs (convolutions and linear layers), the\n"
      "totals, and the activation memory a training step saves for backward (f32, per image).\n"
      "  --config FILE  a training config (train/configs/*.json); its model section is built\n"
      "  --size HxW     input size (default: the config's data.size)\n"
      "  --batch B      batch of the MAC forward (default 1; MACs are also shown per image)\n"
      "  --depth D      module tree depth (default 2)\n"
      "  --no-memory    skip the activation-memory estimate (a training forward at full size)\n"
      "  --weights W    describe a weights file (.safetensors or PyTorch .pth): tensors, and the config, model and\n"
      "                 tasks it was trained with when mtinet wrote it\n");
}

std::string with_commas(int64_t v) {
  std::string s = std::to_string(v < 0 ? -v : v);
  for (int i = int(s.size()) - 3; i > 0; i -= 3) s.insert(size_t(i), ",");
  return v < 0 ? "-" + s : s;
}

// The activation bytes a training step at batch 1 saves for backward (parameters excluded).
SavedBytes training_activations(MultiTaskNetwork& model, int64_t h, int64_t w) {
  model.train(true);
  Rng rng(1);
  std::map<std::string, Tensor> batch = synthetic_batch(model.tasks(), 1, h, w, rng, DType::F32, Device::CPU);
  ModelOutput out = model.forward(batch.at("image"));
  TaskLosses losses = compute_task_losses(model.tasks(), out, batch);
  std::vector<Tensor> roots;
  for (const auto& [name, l] : losses.per_task) roots.push_back(l);
  SavedBytes saved = saved_for_backward(roots, model.parameters());
  model.train(false);
  return saved;
}

// The weights file's tensors and metadata; the config (one long JSON line in the file) is shown indented.
void print_weights(const std::string& path) {
  SafetensorsContents w = load_weights(path);
  int64_t elements = 0;
  std::map<std::string, int> dtypes;
  for (const auto& [name, t] : w.tensors) {
    elements += t.numel();
    ++dtypes[dtype_name(t.dtype())];
  }
  std::printf("weights %s: %zu tensors, %s elements (", path.c_str(), w.tensors.size(), with_commas(elements).c_str());
  const char* sep = "";
  for (const auto& [dt, n] : dtypes) std::printf("%s%s %d", std::exchange(sep, ", "), dt.c_str(), n);
  std::printf(")\n");
  std::string origin = describe_weights_origin(w);
  std::printf("origin:  %s\n", origin.empty() ? "no mtinet metadata (written by PyTorch, or by an older mtinet)"
                                              : origin.c_str());
  for (const auto& [key, value] : w.metadata) {
    if (key == kMetaConfig) continue;
    std::printf("  %s: %s\n", key.c_str(), value.c_str());
  }
  auto config = w.metadata.find(kMetaConfig);
  if (config == w.metadata.end()) return;
  std::string shown = config->second;
  try {
    shown = nlohmann::json::parse(config->second).dump(2);
  } catch (const std::exception&) {
    // not JSON: shown as stored
  }
  std::printf("  %s:\n", kMetaConfig);
  size_t begin = 0;
  while (begin < shown.size()) {
    size_t end = shown.find('\n', begin);
    if (end == std::string::npos) end = shown.size();
    std::printf("    %s\n", shown.substr(begin, end - begin).c_str());
    begin = end + 1;
  }
}

}  // namespace

int cmd_summary(const std::vector<std::string>& argv) {
  Args args(argv, {"config", "size", "batch", "depth", "weights"}, {"no-memory", "help"});
  if (args.has("help")) {
    print_usage();
    return 0;
  }
  if (args.has("weights") && !args.has("config") && args.positional().empty()) {
    print_weights(args.require("weights"));
    return 0;
  }
  if (!args.has("config") || !args.positional().empty()) {
    print_usage();
    return 2;
  }
  TrainConfig cfg = load_train_config(args.require("config"));
  int64_t h = cfg.data.height, w = cfg.data.width;
  if (args.has("size")) {
    auto [sh, sw] = parse_size(args.get("size", ""));
    h = sh, w = sw;
  }
  const int64_t batch = args.get_int("batch", 1);
  const int depth = int(args.get_int("depth", 2));
  MTINET_CHECK(batch >= 1 && depth >= 1, "summary: --batch and --depth must be >= 1");

  std::shared_ptr<MultiTaskNetwork> model = build_model(cfg.model);
  model->train(false);
  std::vector<NamedMacs> macs = count_named_macs(*model, [&] {
    NoGradGuard no_grad;
    model->forward(Tensor::zeros({batch, h, w, 3}, DType::F32));
  });

  std::printf("model %s, backbone %s, tasks %s; input %lld x %lldx%lldx3 (NHWC), f32\n\n", cfg.model.model.c_str(),
              cfg.model.backbone.c_str(), cfg.model.tasks.c_str(), (long long)batch, (long long)h, (long long)w);
  std::printf("%-48s %-22s %12s %14s\n", "module", "last conv output", "params", "MMACs/image");
  for (const ModuleRow& r : module_tree(*model, macs, depth)) {
    std::string name = std::string(size_t(2 * (r.depth - 1)), ' ') + r.prefix;
    std::string shape = r.last_output.empty() ? "-" : shape_str(r.last_output);
    std::printf("%-48s %-22s %12s %14.1f\n", name.c_str(), shape.c_str(), with_commas(r.params).c_str(),
                double(r.macs) / double(batch) / 1e6);
  }
  int64_t total = 0, unnamed = 0, conv = 0;
  for (const NamedMacs& m : macs) {
    total += m.macs;
    if (m.weight == "<unnamed>") unnamed += m.macs;
    if (m.op == std::string("conv2d")) conv += m.macs;
  }
  std::printf("\nparameters:  %s\n", with_commas(model->parameter_count()).c_str());
  std::printf("forward:     %.2f GMACs per image (%.2f GFLOPs), conv2d %.2f + linear %.4f; %zu calls\n",
              double(total) / double(batch) / 1e9, 2.0 * double(total) / double(batch) / 1e9,
              double(conv) / double(batch) / 1e9, double(total - conv) / double(batch) / 1e9, macs.size());
  std::printf("             (MACs count convolutions and linear layers only: batch norm, activations, resizing,\n"
              "              concatenation and losses are not counted)\n");
  if (unnamed) std::printf("             of which %.3f GMACs from weights outside the state_dict\n", double(unnamed) / 1e9);
  if (!args.has("no-memory")) {
    SavedBytes saved = training_activations(*model, h, w);
    const double mib = 1024.0 * 1024.0;
    std::printf("activations: %.1f MiB per image saved for backward in training (f32, batch 1 at %lldx%lld, losses "
                "included, parameters excluded)\n",
                double(saved.total) / mib, (long long)h, (long long)w);
    std::printf("             by the op that saves them:");
    std::vector<std::pair<int64_t, std::string>> ops;
    for (const auto& [op, bytes] : saved.by_op) ops.emplace_back(bytes, op);
    std::sort(ops.rbegin(), ops.rend());
    for (size_t i = 0; i < ops.size(); ++i)
      std::printf("%s %s %.1f", i % 5 == 0 ? "\n              " : ",", ops[i].second.c_str(), double(ops[i].first) / mib);
    std::printf("\n");
  }
  if (args.has("weights")) {
    std::printf("\n");
    print_weights(args.require("weights"));
  }
  return 0;
}

}  // namespace mtinet
