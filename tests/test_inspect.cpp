// mtinet inspect: the sample it writes is the one the training loader builds (same augmentation draw, same labels),
// every field as an NCHW float tensor, with a PNG view per field; and its errors.
#include <filesystem>
#include <fstream>

#include "core/safetensors.h"
#include "data/dataset_factory.h"
#include "data/loader.h"
#include "scratch.h"
#include "test_util.h"
#include "tools/commands.h"
#include "train/config.h"

using namespace mtinet;
using namespace mtinet::test;
namespace fs = std::filesystem;

namespace {

// A tiny synthetic PASCAL dataset and a config reading it with every PASCAL task at 64x64.
std::string inspect_config(const std::string& dir) {
  std::string root = synthetic_pascal_dataset(fs::path(dir).filename().string() + "_data", 4, 48, 56, 4, 0.5);
  nlohmann::json j = {{"model", {{"model", "mtinet"}, {"backbone", "hrnet_tiny"}, {"tasks", "pascal"}}},
                      {"data", {{"dataset", "pascal"}, {"root", root}, {"size", {64, 64}}}},
                      {"seed", 9}};
  std::string path = dir + "/config.json";
  std::ofstream(path) << j.dump();
  return path;
}

}  // namespace

TEST_CASE("inspect: the training loader's sample as NCHW tensors and a PNG per field") {
  std::string dir = fresh_dir("mtinet_inspect");
  std::string config = inspect_config(dir);
  std::string out = dir + "/views/s.safetensors";
  REQUIRE(cmd_inspect({"--config", config, "--split", "train", "--index", "1", "--out", out}) == 0);
  SafetensorsContents file = load_safetensors(out);
  CHECK(file.metadata.at("split") == "train");
  CHECK(file.metadata.at("augmented") == "true");
  CHECK(file.metadata.at("index") == "1");

  // The same sample from the loader (batch 1, in order, not normalised): same seed, epoch 0, position 1.
  TrainConfig cfg = load_train_config(config);
  LoaderConfig lc;
  lc.batch_size = 1;
  lc.shuffle = false;
  lc.normalize = false;
  lc.threads = 1;
  lc.seed = cfg.seed;
  lc.aug = augment_config(cfg.data);  // PASCAL's defaults: flip, scale 0.75..1.25, rotation +-20, here 64x64
  const std::vector<std::string> tasks = {"semseg", "human_parts", "sal", "normals", "edge"};
  Loader loader(open_dataset("pascal", cfg.data.root, "train", tasks), lc);
  loader.start({0, 1});
  Batch b;
  REQUIRE(loader.next(b));
  CHECK(file.metadata.at("id") == b.ids.at(0));
  for (const std::string field : {"image", "semseg", "human_parts", "sal", "normals", "edge"}) {
    INFO(field);
    const Tensor& t = file.at(field);
    int64_t c = field == "image" || field == "normals" ? 3 : 1;
    REQUIRE(t.shape() == Shape{1, c, 64, 64});
    CHECK(t.dtype() == DType::F32);
    std::vector<double> got = t.to_double_vector(), want = b.tensors.at(field).to_double_vector();
    REQUIRE(want.size() == got.size());
    size_t differ = 0;
    for (int64_t k = 0; k < c; ++k)
      for (int64_t i = 0; i < 64 * 64; ++i)
        differ += std::abs(got[size_t(k * 64 * 64 + i)] - want[size_t(i * c + k)]) > 1e-6 ? 1 : 0;
    CHECK(differ == 0);
    CHECK(fs::exists(dir + "/views/s_" + field + ".png"));
  }
}

TEST_CASE("inspect: the val split is only resized, a bad index and clashing flags are refused") {
  std::string dir = fresh_dir("mtinet_inspect_val");
  std::string config = inspect_config(dir);
  std::string out = dir + "/v.safetensors";
  REQUIRE(cmd_inspect({"--config", config, "--out", out}) == 0);
  SafetensorsContents file = load_safetensors(out);
  CHECK(file.metadata.at("split") == "val");
  CHECK(file.metadata.at("augmented") == "false");
  CHECK(file.at("image").shape() == Shape{1, 3, 64, 64});
  CHECK_THROWS_WITH_AS(cmd_inspect({"--config", config, "--index", "2", "--out", out}),
                       doctest::Contains("--index 2 is outside pascal:val (2 samples)"), Error);
  CHECK_THROWS_WITH_AS(cmd_inspect({"--config", config, "--augment", "--no-augment"}),
                       doctest::Contains("exclude each other"), Error);
}
