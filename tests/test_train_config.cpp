// Training configs: every shipped config parses, unknown keys and bad values are named, --set overrides work;
// checkpoint bookkeeping keeps the newest k.
#include <filesystem>
#include <fstream>

#include "train/checkpoint.h"
#include "train/config.h"
#include "test_util.h"

using namespace mtinet;
namespace fs = std::filesystem;

TEST_CASE("every shipped config parses") {
  std::string dir = std::string(MTINET_FIXTURE_DIR) + "/../../train/configs";
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    INFO(e.path().string());
    TrainConfig c = load_train_config(e.path().string());
    CHECK(c.epochs > 0);
    ++n;
  }
  CHECK(n >= 7);
}

TEST_CASE("config errors name the key, overrides replace values") {
  nlohmann::json j = {{"epochs", 3}, {"data", {{"size", {64, 96}}, {"root", "/tmp/x"}}}};
  CHECK(parse_train_config(j).data.width == 96);
  nlohmann::json bad = j;
  bad["data"]["colour"] = true;
  CHECK_THROWS_WITH_AS(parse_train_config(bad), doctest::Contains("'data.colour'"), Error);
  bad = j;
  bad["optimizer"] = {{"lr", "fast"}};
  CHECK_THROWS_WITH_AS(parse_train_config(bad), doctest::Contains("'optimizer.lr' has the wrong type"), Error);
  bad = j;
  bad["data"]["size"] = {65, 96};
  CHECK_THROWS_WITH_AS(parse_train_config(bad), doctest::Contains("divisible by 32"), Error);
  bad = j;
  bad["model"] = {{"depth_multiplier", 2}};
  CHECK_THROWS_WITH_AS(parse_train_config(bad), doctest::Contains("depth_multiplier"), Error);

  apply_override(j, "optimizer.lr=0.5");
  apply_override(j, "data.root=/data/nyud");
  apply_override(j, "data.augment=false");
  TrainConfig c = parse_train_config(j);
  CHECK(c.optimizer.lr == 0.5);
  CHECK(c.data.root == "/data/nyud");
  CHECK_FALSE(c.data.augment);
  CHECK_THROWS_AS(apply_override(j, "novalue"), Error);
}

TEST_CASE("checkpoint state round trip and pruning keeps the newest") {
  std::string dir = (fs::temp_directory_path() / "mtinet_ckpt_test").string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (int64_t e = 1; e <= 4; ++e) {
    CheckpointPaths p = checkpoint_paths(dir, e);
    std::ofstream(p.weights) << "w";
    TrainingState s;
    s.step = 10 * e;
    s.loader = {e, 0};
    s.tensors.emplace_back("optimizer.steps", Tensor::from_vector<int64_t>({}, {10 * e}));
    write_training_state(p.state, s, "{}");
    prune_checkpoints(dir, 2);
  }
  CHECK_FALSE(fs::exists(checkpoint_paths(dir, 2).state));
  CHECK(fs::exists(checkpoint_paths(dir, 3).state));
  auto latest = latest_checkpoint(dir);
  REQUIRE(latest.has_value());
  TrainingState s = read_training_state(latest->state);
  CHECK(s.step == 40);
  CHECK(s.loader.epoch == 4);
  // A state file without its weights beside it is not a checkpoint.
  fs::remove(checkpoint_paths(dir, 4).weights);
  CHECK(latest_checkpoint(dir)->state == checkpoint_paths(dir, 3).state);
}

TEST_CASE("a state file names its weights file, other names are refused") {
  CheckpointPaths p = checkpoint_paths("/runs/x", 42);
  CHECK(checkpoint_paths_of_state(p.state).weights == p.weights);
  CHECK_THROWS_WITH_AS(checkpoint_paths_of_state("/runs/x/step_1.weights.safetensors"),
                       doctest::Contains("state.safetensors"), Error);
}
