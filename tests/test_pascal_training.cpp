// Training on PASCAL-Context: every shipped pascal_*.json config runs one training step (and the evaluation that
// follows an early stop) on a tiny synthetic PASCAL dataset, with the tiny backbone at 64x64, so that each config's
// model, tasks, loss weights, optimiser and the dataset's augmentation work together end to end.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "eval/multitask_delta.h"
#include "train/config.h"
#include "train/trainer.h"
#include "scratch.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::test;
namespace fs = std::filesystem;

namespace {

std::string shipped_config_dir() { return std::string(MTINET_FIXTURE_DIR) + "/../../train/configs"; }

// 6 images of 64x64 (4 train, 2 val) in the authors' layout, .mat files included.
std::string tiny_pascal_dataset() {
  static std::string root;
  if (!root.empty()) return root;
  root = synthetic_pascal_dataset("mtinet_pascal_train_synth", 6, 64, 64, 11, 0.34);
  return root;
}

std::vector<std::string> pascal_configs() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(shipped_config_dir()))
    if (e.path().filename().string().rfind("pascal_", 0) == 0) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("PASCAL configs: the reference recipe and loss weights") {
  std::string dir = shipped_config_dir();
  TrainConfig mti = load_train_config(dir + "/pascal_mtinet.json");
  CHECK(mti.data.dataset == "pascal");
  CHECK(mti.data.height == 512);
  CHECK(mti.data.width == 512);
  CHECK(mti.data.scale_range == std::vector<double>{0.75, 1.25});
  CHECK(mti.data.rotation_range == std::vector<double>{-20.0, 20.0});
  CHECK(mti.model.tasks == "pascal");
  CHECK(mti.optimizer.type == "adam");
  CHECK(mti.optimizer.lr == 1e-4);
  CHECK(mti.optimizer.weight_decay == 1e-4);
  CHECK(mti.schedule.kind == "poly");
  CHECK(mti.epochs == 100);
  CHECK(mti.batch_size == 8);
  CHECK(mti.loss["weights"] ==
        nlohmann::json{{"semseg", 1.0}, {"human_parts", 2.0}, {"sal", 5.0}, {"edge", 50.0}, {"normals", 10.0}});
  for (const std::string task : {"semseg", "human_parts", "sal", "normals", "edge"}) {
    INFO(task);
    TrainConfig st = load_train_config(dir + "/pascal_single_task_" + task + ".json");
    CHECK(st.model.model == "single_task");
    CHECK(st.model.task == task);
    CHECK(st.optimizer.type == "sgd");
    CHECK(st.optimizer.lr == 0.01);
    CHECK(st.optimizer.momentum == 0.9);
    CHECK(st.epochs == 60);
    CHECK(st.loss["weights"] == nlohmann::json{{task, 1.0}});  // the reference's SingleTaskLoss: no weight
  }
  CHECK(pascal_configs().size() == 8);
}

TEST_CASE("PASCAL configs: one training step each on a tiny synthetic PASCAL dataset") {
  std::string data = tiny_pascal_dataset();
  for (const std::string& path : pascal_configs()) {
    std::string name = fs::path(path).stem().string();
    INFO(name);
    std::string run = fresh_dir("mtinet_pascal_step_" + name);
    TrainConfig cfg = load_train_config(path, {"data.root=" + data, "data.size=[64,64]", "data.threads=1",
                                               "model.backbone=hrnet_tiny", "batch_size=2", "max_steps=1",
                                               "checkpoint.dir=" + run, "device=cpu", "log.tensorboard=false"});
    Trainer trainer(cfg);
    trainer.start_fresh();
    TrainSummary s = trainer.run();
    CHECK(s.steps == 1);
    REQUIRE(s.losses.size() == 1);
    CHECK(std::isfinite(s.losses[0]));
    // The evaluation after the early stop covers every main task with its headline metric.
    for (const std::string& task : trainer.model().tasks().main_names()) {
      INFO(task);
      REQUIRE(s.last_eval.contains(task));
      CHECK(s.last_eval[task][task_headline(task).key].is_number());
    }
  }
}

TEST_CASE("PASCAL training: a PASCAL dataset configured as NYUD is refused when the trainer opens it") {
  std::string data = tiny_pascal_dataset();
  std::string run = fresh_dir("mtinet_pascal_wrong_layout");
  // The PASCAL data read as NYUD: refused by the NYUD reader, naming what is missing.
  TrainConfig cfg = load_train_config(shipped_config_dir() + "/pascal_single_task_semseg.json",
                                      {"data.dataset=nyud", "data.root=" + data, "checkpoint.dir=" + run,
                                       "model.backbone=hrnet_tiny", "device=cpu"});
  CHECK_THROWS_AS(Trainer{cfg}, Error);
}
