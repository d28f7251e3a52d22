// The training loop end to end on a tiny synthetic dataset: the loss falls, checkpoints load back, a resumed run
// repeats an uninterrupted one bit for bit, and a NaN loss stops training naming the task while keeping the last
// good checkpoint.
#include "scratch.h"
#include "test_util.h"
#include "train/checkpoint.h"
#include "train/trainer.h"

using namespace mtinet;
using namespace mtinet::test;

namespace {
std::string tiny_synthetic_dataset() {
  static std::string root;
  if (!root.empty()) return root;
  root = synthetic_dataset("mtinet_train_synth", 10, 64, 3, 0.2);
  return root;
}

TrainConfig tiny_config(const std::string& run_dir) {
  nlohmann::json j = {
      {"model", {{"model", "mtinet"}, {"tasks", "nyud"}, {"seed", 5}}},
      {"data", {{"root", tiny_synthetic_dataset()}, {"size", {64, 64}}, {"threads", 2}, {"scales", {1.0, 1.2}}}},
      {"optimizer", {{"type", "adam"}, {"lr", 1e-3}}},
      {"checkpoint", {{"dir", run_dir}, {"every_epochs", 1}, {"keep_last", 5}}},
      {"epochs", 2},
      {"batch_size", 2},
      {"eval_every", 0},
      {"device", "cpu"},
  };
  return parse_train_config(j);
}

}  // namespace

TEST_CASE("training: resume from a mid-epoch checkpoint repeats the uninterrupted run bit for bit") {
  TrainConfig full_cfg = tiny_config(fresh_dir("mtinet_run_full"));
  Trainer full(full_cfg);
  TrainSummary straight = full.run();  // 2 epochs x 4 steps (8 training images, batch 2)
  REQUIRE(straight.losses.size() == 8);
  CHECK(straight.last_eval.contains("semseg"));
  CHECK(straight.last_eval["depth"].contains("rmse"));

  std::string dir = fresh_dir("mtinet_run_resumed");
  TrainConfig first_cfg = tiny_config(dir);
  first_cfg.max_steps = 3;  // stop inside the first epoch
  TrainSummary first = Trainer(first_cfg).run();
  REQUIRE(first.losses.size() == 3);
  Trainer second(tiny_config(dir));
  second.resume("latest");
  TrainSummary rest = second.run();
  REQUIRE(rest.losses.size() == 5);
  for (size_t i = 0; i < 3; ++i) CHECK(first.losses[i] == straight.losses[i]);
  for (size_t i = 0; i < 5; ++i) CHECK(rest.losses[i] == straight.losses[i + 3]);
  // The final weights are identical too.
  auto a = full.model().state_dict(), b = second.model().state_dict();
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CAPTURE(a[i].first);
    CHECK(a[i].second.to_double_vector() == b[i].second.to_double_vector());
  }
}

TEST_CASE("training: a NaN loss stops the run naming the task, and keeps the last checkpoint") {
  std::string dir = fresh_dir("mtinet_run_nan");
  TrainConfig cfg = tiny_config(dir);
  cfg.max_steps = 4;  // one epoch, checkpointed at its end
  Trainer(cfg).run();
  auto before = latest_checkpoint(dir);
  REQUIRE(before.has_value());
  TrainConfig blow_up = tiny_config(dir);
  blow_up.optimizer.lr = 1e30;  // the first update after resuming wrecks the weights
  Trainer t(blow_up);
  t.resume("latest");
  CHECK_THROWS_WITH_AS(t.run(), doctest::Contains("the loss of task '"), Error);
  auto after = latest_checkpoint(dir);
  REQUIRE(after.has_value());
  CHECK(after->weights == before->weights);  // nothing written from the wrecked weights
  CHECK(load_safetensors(after->weights).tensors.size() > 100);
}
