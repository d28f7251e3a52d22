// mtinet predict: runs trained weights on one image and writes PNG visualisations (and optionally raw outputs).
#include <cstdio>
#include <filesystem>

#include "core/error.h"
#include "data/image.h"
#include "eval/explain.h"
#include "eval/predictor.h"
#include "layers/activation_tap.h"
#include "core/compute_threads.h"
#include "tools/args.h"
#include "tools/predict_many.h"
#include "tools/commands.h"
#include "train/config.h"

namespace mtinet {

int cmd_predict(const std::vector<std::string>& argv) {
  Args args(argv, {"config", "weights", "input", "split", "out", "raw", "explain", "device", "set", "threads"}, {"help"});
  if (args.has("help")) {
    std::printf(
        "usage: mtinet predict --config FILE --weights W.safetensors --input IMAGE [--out DIR] [--raw OUT.safetensors]\n"
        "                      [--explain DIR]\n"
        "                      [--device cpu|cuda] [--set key=value]...\n\n"
        "Builds the model of the config, loads the weights strictly (reference names, as `mtinet train` saves them),\n"
        "resizes the image (jpg/png) to the config's data.size, runs the model and resizes every output back to the\n"
        "image's size. Writes <stem>_<task>.png per main task into DIR (default: the current directory):\n"
        "semseg/human_parts as coloured classes, depth as a colour ramp (near = bright), normals as RGB, edge/sal as\n"
        "grey probabilities. --raw also writes the raw outputs as float32 NCHW tensors: '<task>' (final, image size)\n"
        "and 'initial.scale_<s>.<task>' (deep supervision, stride 4*2^s), with the config and sizes as metadata.\n"
        "--explain DIR also draws what MTI-Net attends to (eval/explain.h): the FPM mask per task and scale and every\n"
        "spatial-attention map of the distillation as heat maps over the image, a panel per task (input |\n"
        "prediction) and <stem>_explain.txt saying what each file shows, its value range and the class colours.\n"
        "--input DIR (a folder) writes <stem>_panel_<task>.png (input | prediction) for every image in it; --split S\n"
        "instead of --input does so for every sample of split S of the config's dataset (data.root), with the\n"
        "ground truth between input and prediction.\n");
    return 0;
  }
  std::vector<std::string> overrides = args.all("set");
  std::string config_path = args.require("config");
  TrainConfig cfg = load_train_config(config_path, overrides);
  set_compute_threads(int(args.has("threads") ? args.get_int("threads", 0) : cfg.threads));
  Device device = parse_device(args.get("device", cfg.device));
  Predictor predictor(cfg.model, args.require("weights"), cfg.data.height, cfg.data.width, device, cfg.data.normalize);
  const std::string out = args.get("out", ".");
  if (args.has("split") || (args.has("input") && std::filesystem::is_directory(args.get("input", "")))) {
    MTINET_CHECK(!args.has("raw") && !args.has("explain"), "predict: --raw and --explain take one image (--input FILE)");
    int64_t n = args.has("split") ? predict_split(predictor, cfg, args.get("split", ""), out)
                                  : predict_folder(predictor, args.get("input", ""), cfg.data.dataset, out);
    std::printf("wrote the panels of %lld image(s) to %s\n", static_cast<long long>(n), out.c_str());
    return 0;
  }
  std::string input = args.require("input");
  Prediction p;
  std::vector<std::pair<std::string, Tensor>> maps;
  {
    tap::Recorder recorder;  // collects the FPM masks and attention maps of this one forward pass
    p = predictor.predict_file(input);
    maps = recorder.maps();
  }
  std::string stem = std::filesystem::path(input).stem().string();
  for (const std::string& path : write_prediction_pngs(p, out, stem))
    std::printf("wrote %s\n", path.c_str());
  if (args.has("explain")) {
    if (maps.empty())
      std::printf("--explain: model '%s' has no FPM or distillation to draw (MTI-Net has both); panels only\n",
                  cfg.model.model.c_str());
    for (const std::string& path :
         write_explanation(load_image(input, 3), p, maps, predictor.model().tasks().auxiliary_names(),
                           cfg.model.fpm_grouping == "paper", cfg.data.dataset, args.get("explain", ""), stem))
      std::printf("wrote %s\n", path.c_str());
  }
  if (args.has("raw")) {
    std::string raw = args.get("raw", "");
    write_prediction_raw(p, raw, cfg.source.dump(), input);
    std::printf("wrote %s (raw float32 NCHW outputs)\n", raw.c_str());
  }
  return 0;
}

}  // namespace mtinet
