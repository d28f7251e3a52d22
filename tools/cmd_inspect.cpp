// mtinet inspect: one sample of the config's dataset, decoded and prepared as the training loader prepares it, written
// as float tensors (NCHW) plus a PNG view of each label: how a user checks that a dataset is read as they think.
#include <cstdio>

#include "data/dataset_factory.h"
#include "data/loader.h"
#include "data/sample_views.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "train/config.h"

namespace mtinet {

int cmd_inspect(const std::vector<std::string>& argv) {
  Args args(argv, {"config", "split", "index", "out", "seed", "epoch", "set"}, {"help", "augment", "no-augment"});
  if (args.has("help")) {
    std::printf(
        "usage: mtinet inspect --config FILE [--split val] [--index I] [--out sample.safetensors]\n"
        "                      [--augment | --no-augment] [--seed S] [--epoch E] [--set key=value]...\n\n"
        "Loads sample I (default 0) of a split (default: the config's val split) of the config's dataset for every\n"
        "label the model's tasks use, and prepares it as the training loader does: the dataset's augmentation\n"
        "(data.*; drawn as at position I of epoch E with the config's seed, or --seed) when the split is the training\n"
        "split and data.augment is on, or --augment; else only the resize to data.size (--no-augment forces that).\n"
        "Human parts of an image without people become ignore (255), as in training.\n"
        "Writes --out: every field as float32 NCHW {1, C, H, W} ('image' RGB 0..255 before normalisation, labels as\n"
        "stored, 255 = ignore), and <stem>_<field>.png beside it: a view of each field.\n");
    return 0;
  }
  MTINET_CHECK(!(args.has("augment") && args.has("no-augment")), "inspect: --augment and --no-augment exclude "
               "each other");
  TrainConfig cfg = load_train_config(args.require("config"), args.all("set"));
  std::string split = args.get("split", cfg.data.val_split);
  long long index = args.get_int("index", 0);
  TaskSet tasks = build_model(cfg.model)->tasks();
  std::shared_ptr<Dataset> data = open_dataset(cfg.data.dataset, cfg.data.root, split, tasks.label_names());
  MTINET_CHECK(index >= 0 && size_t(index) < data->size(), "inspect: --index ", index, " is outside ", data->name(),
               " (", data->size(), " samples)");

  LoaderConfig lc;
  lc.augment = args.has("augment") || (!args.has("no-augment") && split == cfg.data.train_split && cfg.data.augment);
  lc.aug = augment_config(cfg.data);
  lc.seed = uint64_t(args.get_int("seed", static_cast<long long>(cfg.seed)));
  long long epoch = args.get_int("epoch", 0);
  Sample s = prepare_loader_sample(*data, size_t(index), lc, epoch, index);

  std::string out = args.get("out", "sample.safetensors");
  std::map<std::string, std::string> meta = {{"dataset", cfg.data.dataset}, {"root", cfg.data.root},
                                             {"split", split}, {"index", std::to_string(index)},
                                             {"augmented", lc.augment ? "true" : "false"}};
  std::printf("sample %lld of %s: id '%s', %lldx%lld, %s\n", index, data->name().c_str(), s.id.c_str(),
              static_cast<long long>(s.height()), static_cast<long long>(s.width()),
              lc.augment ? "augmented" : "resized only");
  for (const std::string& p : write_sample_views(s, out, meta)) std::printf("wrote %s\n", p.c_str());
  return 0;
}

}  // namespace mtinet
