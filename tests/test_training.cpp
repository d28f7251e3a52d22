// The training loop end to end on a tiny synthetic dataset: the loss falls, checkpoints load back, a resumed run
// repeats an uninterrupted one bit for bit, losses read back late log the same values as losses read at once, a NaN
// loss stops training naming the task while keeping the last good checkpoint, and uncertainty weighting trains the
// balancer's own log-variances.
#include <cmath>

#include "test_util.h"
#include "tiny_training.h"
#include "train/checkpoint.h"
#include "train/loss_readback.h"
#include "train/trainer.h"

using namespace mtinet;
using namespace mtinet::test;

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

// The queue alone: records come out in step order, `lag` steps late, with the values the losses had when their step
// began (a later in-place change must not leak into an earlier step), and only once both read and ended.
TEST_CASE("training: LossReadback returns each step's losses lag steps late, in order, as they were") {
  auto scalar = [](double v) { return Tensor::from_vector<float>({}, {float(v)}); };
  LossReadback q(2);
  Tensor total = scalar(0), a = scalar(0), b = scalar(0);
  std::vector<StepRecord> read;
  for (int64_t k = 1; k <= 4; ++k) {
    total.copy_from(scalar(10.0 * k));  // the same tensors, overwritten each step
    a.copy_from(scalar(k + 0.5));
    b.copy_from(scalar(-k));
    StepRecord r;
    r.step = k;
    r.lr = 0.25 * k;
    q.begin(r, total, {{"b", b}, {"a", a}});
    if (k == 1) CHECK(q.take_finished().empty());  // neither read nor ended
    for (StepRecord& x : q.read(false)) read.push_back(x);
    q.end(100.0 + k);
  }
  REQUIRE(read.size() == 2);  // steps 1 and 2; 3 and 4 are the newest two
  CHECK(q.pending() == 4);
  for (StepRecord& x : q.read(true)) read.push_back(x);
  CHECK(q.read(true).empty());  // each step is read once
  REQUIRE(read.size() == 4);
  std::vector<StepRecord> done = q.take_finished();
  REQUIRE(done.size() == 4);
  CHECK(q.pending() == 0);
  for (int64_t k = 1; k <= 4; ++k) {
    CAPTURE(k);
    const StepRecord& r = done[size_t(k - 1)];
    CHECK(read[size_t(k - 1)].step == k);
    CHECK(r.step == k);
    CHECK(r.lr == 0.25 * k);
    CHECK(r.loss == 10.0 * k);
    CHECK(r.task_losses == std::map<std::string, double>{{"a", k + 0.5}, {"b", double(-k)}});
    CHECK(r.images_per_s == 100.0 + k);
  }
  // lag 0 reads the step at once, before it ends.
  LossReadback now(0);
  now.begin(StepRecord{}, scalar(3), {{"a", scalar(1)}});
  std::vector<StepRecord> r = now.read(false);
  REQUIRE(r.size() == 1);
  CHECK(r[0].loss == 3.0);
  CHECK(now.take_finished().empty());
  now.end(1.0);
  CHECK(now.take_finished().size() == 1);
  CHECK_THROWS_WITH_AS(now.end(1.0), doctest::Contains("without a step begun"), Error);
  CHECK_THROWS_WITH_AS(LossReadback(-1), doctest::Contains(">= 0"), Error);
  CHECK_THROWS_WITH_AS(now.begin(StepRecord{}, scalar(3), {{"a", Tensor::from_vector<double>({}, {1.0})}}),
                       doctest::Contains("the loss of 'a'"), Error);
}

// With lag 1 the NaN step is read back one step later; with lag 3 at the end of the epoch, before its checkpoint.
TEST_CASE("training: a NaN loss stops the run naming the task, and keeps the last checkpoint") {
  for (int64_t lag : {0, 1, 3}) {
    CAPTURE(lag);
    std::string dir = fresh_dir("mtinet_run_nan");
    TrainConfig cfg = tiny_config(dir);
    cfg.max_steps = 4;  // one epoch, checkpointed at its end
    Trainer(cfg).run();
    auto before = latest_checkpoint(dir);
    REQUIRE(before.has_value());
    TrainConfig blow_up = tiny_config(dir);
    blow_up.optimizer.lr = 1e30;  // the first update after resuming wrecks the weights
    Trainer t(blow_up);
    t.set_loss_readback_lag(lag);
    t.resume("latest");
    CHECK_THROWS_WITH_AS(t.run(), doctest::Contains("the loss of task '"), Error);
    auto after = latest_checkpoint(dir);
    REQUIRE(after.has_value());
    CHECK(after->weights == before->weights);  // nothing written from the wrecked weights
    CHECK(load_safetensors(after->weights).tensors.size() > 100);
    // Only losses checked finite reach the log (a NaN would be written as null).
    std::vector<nlohmann::json> steps = step_records(dir);
    CHECK(steps.size() >= 5);  // the first run's 4, and the resumed run's first (finite) step
    for (const nlohmann::json& r : steps) CHECK(r.at("loss").is_number());
  }
}

// Late reads must change when the values are seen, never what they are: every logged number (but the timing) and
// the run's result must equal those of immediate reads. A lag of 3 leaves steps unread at the epoch's end and at
// max_steps, where they must be collected before the evaluation and checkpoint lines.
TEST_CASE("training: losses read back 1 or 3 steps late log exactly what immediate reads log") {
  auto run = [](int64_t lag) {
    std::string dir = fresh_dir("mtinet_run_lag" + std::to_string(lag));
    TrainConfig cfg = tiny_config(dir);
    cfg.max_steps = 6;  // through the first epoch's end into the second
    cfg.eval_every = 1;
    Trainer t(cfg);
    CHECK(t.loss_readback_lag() == 0);  // the CPU's default
    t.set_loss_readback_lag(lag);
    TrainSummary s = t.run();
    std::vector<nlohmann::json> lines = metrics_lines(dir);
    for (nlohmann::json& j : lines) j.erase("images_per_s");  // wall-clock time, the one thing allowed to differ
    return std::make_pair(s.losses, lines);
  };
  auto [at_once_losses, at_once_lines] = run(0);
  REQUIRE(at_once_losses.size() == 6);
  REQUIRE(at_once_lines.size() == 9);  // 4 steps, epoch 1's evaluation, 2 steps, the max_steps evaluation, trivial
  CHECK(at_once_lines[4].contains("eval"));
  for (int64_t lag : {1, 3}) {
    CAPTURE(lag);
    auto [losses, lines] = run(lag);
    CHECK(losses == at_once_losses);
    REQUIRE(lines.size() == at_once_lines.size());
    for (size_t i = 0; i < lines.size(); ++i) {
      CAPTURE(i);
      CHECK(lines[i] == at_once_lines[i]);
    }
  }
  Trainer t(tiny_config(fresh_dir("mtinet_run_lag_bad")));
  CHECK_THROWS_WITH_AS(t.set_loss_readback_lag(-1), doctest::Contains(">= 0"), Error);
}

TEST_CASE("training: uncertainty weighting trains the balancer's own log-variances") {
  check_uncertainty_trains_own_log_vars("mtinet_run_uncertainty", "cpu", /*lag=*/0, /*atol=*/1e-7);
}
