// Training configs: every shipped config parses, unknown keys and bad values are named, --set overrides work, every
// numeric key is range-checked, file and JSON errors name the file (and line and column); checkpoint bookkeeping
// keeps the newest k.
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "train/checkpoint.h"
#include "train/config.h"
#include "train/config_checks.h"
#include "train/json_file.h"
#include "scratch.h"
#include "test_util.h"

using namespace mtinet;
namespace fs = std::filesystem;

namespace {

std::string shipped_config_dir() { return std::string(MTINET_FIXTURE_DIR) + "/../../train/configs"; }

std::string read_text(const std::string& path) {
  std::ifstream f(path);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

std::string write_text(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

// A small valid config that the range tests override one key at a time.
nlohmann::json valid_config() {
  return {{"epochs", 3}, {"data", {{"size", {64, 96}}, {"root", "/tmp/x"}}}};
}

}  // namespace

TEST_CASE("every shipped config parses") {
  std::string dir = shipped_config_dir();
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    INFO(e.path().string());
    TrainConfig c = load_train_config(e.path().string());
    CHECK(c.epochs > 0);
    ++n;
  }
  CHECK(n >= 7);
  // The checked values arrive unchanged.
  TrainConfig demo = load_train_config(dir + "/synthetic_demo.json");
  CHECK(demo.model.seed == 1);
  CHECK(demo.data.height == 96);
  CHECK(demo.data.width == 128);
  CHECK(demo.data.scales == std::vector<double>{1.0, 1.2});
  CHECK(demo.data.rotations == std::vector<double>{0.0});
  CHECK(demo.data.threads == 2);
  CHECK(demo.optimizer.lr == 1e-3);
  CHECK(demo.optimizer.weight_decay == 1e-4);
  CHECK(demo.schedule.power == 0.9);
  CHECK(demo.schedule.warmup_iters == 20);
  CHECK(demo.checkpoint.every_epochs == 1);
  CHECK(demo.checkpoint.keep_last == 2);
  CHECK(demo.epochs == 6);
  CHECK(demo.batch_size == 8);
  CHECK(demo.eval_every == 2);
  CHECK(demo.precise_bn_batches == 8);
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

TEST_CASE("each numeric key refuses values outside its range, naming the key, the value and the range") {
  // {override, what the message must contain}
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"batch_size=2.5", "config: 'batch_size' must be an integer >= 1, got 2.5"},
      {"batch_size=0", "'batch_size' must be an integer >= 1, got 0"},
      {"batch_size=true", "'batch_size' has the wrong type: expected an integer >= 1, got true"},
      {"epochs=1.9", "'epochs' must be an integer >= 1, got 1.9"},
      {"epochs=0", "'epochs' must be an integer >= 1, got 0"},
      {"epochs=1e30", "'epochs' must be an integer >= 1, got 1e+30 (more than a 64-bit integer holds)"},
      {"eval_every=-1", "'eval_every' must be an integer >= 0, got -1"},
      {"precise_bn_batches=-1", "'precise_bn_batches' must be an integer >= 0, got -1"},
      {"max_steps=-2", "'max_steps' must be an integer >= 0, got -2"},
      {"clip_grad_norm=-1", "'clip_grad_norm' must be a finite number >= 0, got -1"},
      {"seed=-1", "'seed' must be an integer >= 0, got -1"},
      {"seed=0.5", "'seed' must be an integer >= 0, got 0.5"},
      {"seed=18446744073709551616", "'seed' must be an integer >= 0, got 1.8446744073709552e+19 (more than a 64-bit"},
      {"model.seed=-1", "key 'seed' must be a non-negative integer, got -1"},
      {"checkpoint.every_epochs=0", "'checkpoint.every_epochs' must be an integer >= 1, got 0"},
      {"checkpoint.keep_last=0", "'checkpoint.keep_last' must be an integer >= 1, got 0"},
      {"checkpoint.keep_last=1.5", "'checkpoint.keep_last' must be an integer >= 1, got 1.5"},
      {"data.threads=0", "'data.threads' must be an integer >= 1 and <= 256, got 0"},
      {"data.threads=100000", "'data.threads' must be an integer >= 1 and <= 256, got 100000"},
      {"data.threads=2.5", "'data.threads' must be an integer >= 1 and <= 256, got 2.5"},
      {"data.size=[0,64]", "'data.size[0]' must be an integer >= 1, got 0"},
      {"data.size=[64,-32]", "'data.size[1]' must be an integer >= 1, got -32"},
      {"data.size=[64.5,64]", "'data.size[0]' must be an integer >= 1, got 64.5"},
      {"data.size=[64]", "'data.size' must be [height, width], got [64]"},
      {"data.scales=[]", "'data.scales' must be a non-empty list of finite numbers > 0, got []"},
      {"data.scales=[1.0,-1]", "'data.scales[1]' must be a finite number > 0, got -1"},
      {"data.scales=[0]", "'data.scales[0]' must be a finite number > 0, got 0"},
      {"data.scales=1.5", "'data.scales' has the wrong type: expected a non-empty list of finite numbers > 0, got 1.5"},
      {"data.rotations=[]", "'data.rotations' must be a non-empty list of finite numbers, got []"},
      {"data.rotations=[0,\"x\"]", "'data.rotations[1]' has the wrong type: expected a finite number, got \"x\""},
      {"optimizer.lr=-1", "'optimizer.lr' must be a finite number > 0 and <= 10, got -1"},
      {"optimizer.lr=0", "'optimizer.lr' must be a finite number > 0 and <= 10, got 0"},
      {"optimizer.lr=1e300", "'optimizer.lr' must be a finite number > 0 and <= 10, got 1e+300"},
      {"optimizer.lr=10.5", "'optimizer.lr' must be a finite number > 0 and <= 10, got 10.5"},
      {"optimizer.weight_decay=-0.1", "'optimizer.weight_decay' must be a finite number >= 0, got -0.1"},
      {"optimizer.momentum=1", "'optimizer.momentum' must be a finite number >= 0 and < 1, got 1"},
      {"optimizer.momentum=-0.5", "'optimizer.momentum' must be a finite number >= 0 and < 1, got -0.5"},
      {"optimizer.beta1=1.5", "'optimizer.beta1' must be a finite number >= 0 and < 1, got 1.5"},
      {"optimizer.beta2=1.0", "'optimizer.beta2' must be a finite number >= 0 and < 1, got 1.0"},
      {"optimizer.eps=0", "'optimizer.eps' must be a finite number > 0, got 0"},
      {"optimizer.eps=-1e-8", "'optimizer.eps' must be a finite number > 0, got -1e-08"},
      {"schedule.warmup_iters=-1", "'schedule.warmup_iters' must be an integer >= 0, got -1"},
      {"schedule.warmup_iters=2.5", "'schedule.warmup_iters' must be an integer >= 0, got 2.5"},
      {"schedule.power=-1", "'schedule.power' must be a finite number > 0, got -1"},
      {"schedule.power=0", "'schedule.power' must be a finite number > 0, got 0"},
  };
  for (const auto& [assignment, message] : cases) {
    CAPTURE(assignment);
    nlohmann::json j = valid_config();
    apply_override(j, assignment);
    CHECK_THROWS_WITH_AS(parse_train_config(j), doctest::Contains(message.c_str()), Error);
  }
  // Values no JSON text holds, set by code.
  nlohmann::json j = valid_config();
  j["optimizer"]["lr"] = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH_AS(parse_train_config(j),
                       doctest::Contains("'optimizer.lr' must be a finite number > 0 and <= 10, got inf"), Error);
  j = valid_config();
  j["data"]["rotations"] = {0.0, std::nan("")};
  CHECK_THROWS_WITH_AS(parse_train_config(j), doctest::Contains("'data.rotations[1]' must be a finite number, got nan"),
                       Error);
}

TEST_CASE("values at the edges of their ranges are accepted unchanged") {
  nlohmann::json j = valid_config();
  for (const char* assignment : {"epochs=2.0", "batch_size=1", "eval_every=0", "precise_bn_batches=0", "max_steps=0",
                                 "clip_grad_norm=0", "seed=18446744073709551615", "checkpoint.every_epochs=1",
                                 "checkpoint.keep_last=1", "data.threads=256",
                                 "data.scales=[0.5,1e-3]", "data.rotations=[-10,0,12.5]", "optimizer.lr=10",
                                 "optimizer.weight_decay=0", "optimizer.momentum=0", "optimizer.beta1=0",
                                 "optimizer.beta2=0.999999", "optimizer.eps=1e-30", "schedule.warmup_iters=0",
                                 "schedule.power=1e-3"})
    apply_override(j, assignment);
  TrainConfig c = parse_train_config(j);
  CHECK(c.epochs == 2);
  CHECK(c.batch_size == 1);
  CHECK(c.seed == std::numeric_limits<uint64_t>::max());
  CHECK(c.data.threads == 256);
  CHECK(c.data.rotations == std::vector<double>{-10, 0, 12.5});
  CHECK(c.data.scales == std::vector<double>{0.5, 1e-3});
  CHECK(c.optimizer.lr == 10);
  CHECK(c.optimizer.beta2 == 0.999999);
  CHECK(c.schedule.power == 1e-3);
  CHECK(c.checkpoint.keep_last == 1);
  apply_override(j, "data.size=[3.2e1,1.28e2]");  // integral floats read as the integers they are
  c = parse_train_config(j);
  CHECK(c.data.height == 32);
  CHECK(c.data.width == 128);
}

TEST_CASE("ranges describe themselves as the messages print them") {
  using config::Range;
  CHECK(Range::at_least(1).describe() == ">= 1");
  CHECK(Range::above_up_to(0, 10).describe() == "> 0 and <= 10");
  CHECK(Range::half_open(0, 1).describe() == ">= 0 and < 1");
  CHECK(Range::any().describe().empty());
  CHECK(Range::half_open(0, 1).contains(0));
  CHECK_FALSE(Range::half_open(0, 1).contains(1));
  CHECK_FALSE(Range::above(0).contains(0));
  CHECK_FALSE(Range::any().contains(std::numeric_limits<double>::infinity()));
  CHECK(config::expected(Range::closed(1, 256), true) == "an integer >= 1 and <= 256");
  CHECK(config::type_with_article(nlohmann::json::array()) == "an array");
  CHECK(config::type_with_article(nlohmann::json()) == "null");
}

TEST_CASE("config files: a missing file, a folder, bad JSON and a non-object are named with the file") {
  std::string dir = test::fresh_dir("mtinet_config_files");
  std::string missing = dir + "/none.json";
  CHECK_THROWS_WITH_AS(load_train_config(missing), doctest::Contains(("config " + missing + ": no such file").c_str()),
                       Error);
  CHECK_THROWS_WITH_AS(load_train_config(dir), doctest::Contains(("config " + dir + ": is a directory").c_str()),
                       Error);

  std::string bad = write_text(dir + "/bad.json", "{\n  \"epochs\": 3,\n  \"batch_size\" 8\n}\n");
  CHECK_THROWS_WITH_AS(load_train_config(bad), doctest::Contains(("config " + bad + ": invalid JSON at line 3, column "
                                                                  "16: syntax error").c_str()), Error);
  std::string empty = write_text(dir + "/empty.json", "");
  CHECK_THROWS_WITH_AS(load_train_config(empty), doctest::Contains("invalid JSON at line 1, column 1"), Error);
  std::string huge = write_text(dir + "/huge.json", "{\"epochs\": 1e400}");
  CHECK_THROWS_WITH_AS(load_train_config(huge), doctest::Contains("invalid JSON: [json.exception.out_of_range.406] "
                                                                   "number overflow parsing '1e400'"), Error);

  std::string array = write_text(dir + "/array.json", "[]");
  std::string expected = "config " + array + ": expected a JSON object at the top level, got an array";
  CHECK_THROWS_WITH_AS(load_train_config(array), doctest::Contains(expected.c_str()), Error);
  // The check comes before the overrides, which would otherwise index the array by key.
  CHECK_THROWS_WITH_AS(load_train_config(array, {"epochs=2"}), doctest::Contains(expected.c_str()), Error);
  std::string number = write_text(dir + "/number.json", "// a comment\n7");
  CHECK_THROWS_WITH_AS(load_train_config(number), doctest::Contains("at the top level, got a number"), Error);
  CHECK_THROWS_WITH_AS(parse_train_config(nlohmann::json::array()),
                       doctest::Contains("config: expected a JSON object at the top level, got an array"), Error);
  CHECK_THROWS_WITH_AS(parse_train_config({{"optimizer", {1, 2}}}),
                       doctest::Contains("config: 'optimizer' must be an object, got an array"), Error);
}

TEST_CASE("text positions count lines and columns from 1") {
  CHECK(text_position("ab\ncd", 0).line == 1);
  CHECK(text_position("ab\ncd", 0).column == 1);
  CHECK(text_position("ab\ncd", 2).column == 3);  // the newline itself ends line 1
  CHECK(text_position("ab\ncd", 4).line == 2);
  CHECK(text_position("ab\ncd", 4).column == 2);
}

TEST_CASE("a bad value planted in a shipped config, or set over it, is named with the file") {
  std::string shipped = shipped_config_dir() + "/synthetic_demo.json";
  std::string text = read_text(shipped);
  const std::string good = "\"every_epochs\": 1";
  size_t at = text.find(good);
  REQUIRE(at != std::string::npos);
  std::string planted = write_text(test::fresh_dir("mtinet_config_planted") + "/demo.json",
                                   text.replace(at, good.size(), "\"every_epochs\": 0"));
  CHECK_NOTHROW(load_train_config(shipped));
  std::string expected = "config " + planted + ": 'checkpoint.every_epochs' must be an integer >= 1, got 0";
  CHECK_THROWS_WITH_AS(load_train_config(planted), doctest::Contains(expected.c_str()), Error);
  expected = "config " + shipped + ": 'batch_size' must be an integer >= 1, got 2.5";
  CHECK_THROWS_WITH_AS(load_train_config(shipped, {"batch_size=2.5"}), doctest::Contains(expected.c_str()), Error);
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

TEST_CASE("data.dataset: PASCAL starts from the reference's PASCAL recipe, the config's keys override it") {
  nlohmann::json j = {{"data", {{"dataset", "pascal"}, {"root", "/tmp/x"}}}};
  TrainConfig c = parse_train_config(j);
  CHECK(c.data.dataset == "pascal");
  CHECK(c.data.height == 512);
  CHECK(c.data.width == 512);
  CHECK(c.data.scale_range == std::vector<double>{0.75, 1.25});
  CHECK(c.data.rotation_range == std::vector<double>{-20.0, 20.0});
  // NYUD keeps its lists and no ranges.
  TrainConfig n = parse_train_config(valid_config());
  CHECK(n.data.dataset == "nyud");
  CHECK(n.data.scales == std::vector<double>{1.0, 1.2, 1.5});
  CHECK(n.data.scale_range.empty());
  CHECK(n.data.rotation_range.empty());
  // A list replaces the dataset's range (and the other way round).
  j["data"]["scales"] = {1.0};
  j["data"]["rotation_range"] = {-5, 5};
  j["data"]["size"] = {64, 96};
  c = parse_train_config(j);
  CHECK(c.data.scales == std::vector<double>{1.0});
  CHECK(c.data.scale_range.empty());
  CHECK(c.data.rotation_range == std::vector<double>{-5.0, 5.0});
  CHECK(c.data.height == 64);
}

TEST_CASE("data.dataset, the ranges and single_task_results: bad values are named with their key") {
  auto fails = [](nlohmann::json data, const std::string& expected) {
    nlohmann::json j = valid_config();
    for (auto& [k, v] : data.items()) j["data"][k] = v;
    CHECK_THROWS_WITH_AS(parse_train_config(j, "x.json"), doctest::Contains(expected.c_str()), Error);
  };
  fails({{"dataset", "cityscapes"}}, "config x.json: 'data.dataset' must be 'nyud' or 'pascal' (got 'cityscapes')");
  fails({{"scales", {1.0}}, {"scale_range", {0.5, 1.5}}}, "'data.scales' and 'data.scale_range' are both set");
  fails({{"scale_range", {1.25, 0.75}}}, "'data.scale_range' must be [lo, hi] with lo <= hi, got [1.25,0.75]");
  fails({{"scale_range", {0.5, 1.0, 2.0}}}, "'data.scale_range' must be [lo, hi]");
  fails({{"scale_range", {0.0, 1.0}}}, "'data.scale_range[0]' must be a finite number > 0, got 0");
  fails({{"rotation_range", {20}}}, "'data.rotation_range' must be [lo, hi]");
  nlohmann::json j = valid_config();
  j["single_task_results"] = {{"semseg", 3}};
  CHECK_THROWS_WITH_AS(parse_train_config(j, "x.json"),
                       doctest::Contains("'single_task_results.semseg' must be a results file name or an object"),
                       Error);
  j["single_task_results"] = "results.json";
  CHECK_THROWS_WITH_AS(parse_train_config(j, "x.json"), doctest::Contains("'single_task_results' must be an object"),
                       Error);
  j["single_task_results"] = {{"semseg", "st/semseg.json"}, {"edge", {{"odsF", 0.7}}}};
  CHECK(parse_train_config(j).single_task_results == j["single_task_results"]);
}
