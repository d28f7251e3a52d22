// Resuming after faults and config changes (issue 9): `--resume latest` falls back past a truncated newest
// checkpoint, a changed batch size, seed or data order is refused mid-epoch (naming old and new values), leftovers
// of interrupted writes are removed while complete checkpoints stay, and metrics.jsonl never repeats a step.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "test_util.h"
#include "tiny_training.h"
#include "train/checkpoint.h"
#include "train/resume.h"
#include "train/trainer.h"

using namespace mtinet;
using namespace mtinet::test;
namespace fs = std::filesystem;

namespace {

// The step numbers of a run's metrics.jsonl step records, in order.
std::vector<int64_t> logged_steps(const std::string& dir) {
  std::vector<int64_t> steps;
  for (const nlohmann::json& r : step_records(dir)) steps.push_back(r.at("step").get<int64_t>());
  return steps;
}

std::vector<int64_t> one_to(int64_t n) {
  std::vector<int64_t> v;
  for (int64_t i = 1; i <= n; ++i) v.push_back(i);
  return v;
}

// Cuts a file to half its size, as a kill or a full disk mid-write (without the atomic rename) would.
void truncate_to_half(const std::string& path) {
  fs::resize_file(path, fs::file_size(path) / 2);
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

// A dir with a checkpoint after `steps` steps of the tiny config (2 epochs x 4 steps, checkpoints every epoch).
std::string run_until(const std::string& name, int64_t steps) {
  std::string dir = fresh_dir(name);
  TrainConfig cfg = tiny_config(dir);
  cfg.max_steps = steps;
  Trainer(cfg).run();
  return dir;
}

}  // namespace

// A truncated weights file and a truncated state file are each skipped for the checkpoint before, and the run goes on
// from there to the very losses of the uninterrupted run.
TEST_CASE("resume: --resume latest falls back past a truncated newest checkpoint") {
  for (std::string broken : {"weights", "state"}) {
    CAPTURE(broken);
    std::string dir = run_until("mtinet_resume_fallback", 0);  // 0 = no limit: checkpoints at steps 4 and 8
    std::vector<nlohmann::json> straight = step_records(dir);
    REQUIRE(straight.size() == 8);
    CheckpointPaths newest = checkpoint_paths(dir, 8), previous = checkpoint_paths(dir, 4);
    truncate_to_half(broken == "weights" ? newest.weights : newest.state);
    Trainer t(tiny_config(dir));
    CHECK(t.resume("latest") == previous.state);
    TrainSummary rest = t.run();
    REQUIRE(rest.losses.size() == 4);
    for (size_t i = 0; i < 4; ++i) CHECK(rest.losses[i] == straight[i + 4].at("loss").get<double>());
    CHECK(logged_steps(dir) == one_to(8));
    CHECK(load_safetensors(newest.weights).tensors.size() > 100);  // rewritten whole by the resumed run
  }
  // Nothing readable at all: an error, not a fresh start.
  std::string dir = run_until("mtinet_resume_fallback_none", 4);
  truncate_to_half(checkpoint_paths(dir, 4).weights);
  Trainer t(tiny_config(dir));
  CHECK_THROWS_WITH_AS(t.resume("latest"), doctest::Contains("none of the 1 checkpoints"), Error);
}

TEST_CASE("resume: a changed batch size, seed or data order is refused mid-epoch, naming old and new values") {
  std::string dir = run_until("mtinet_resume_changed", 3);  // checkpoint at epoch 0, batch 3
  std::string state = checkpoint_paths(dir, 3).state;
  auto refused = [&](const std::string& key, const nlohmann::json& value, const std::string& message) {
    CAPTURE(key);
    nlohmann::json j = tiny_config(dir).source;
    apply_override(j, key + "=" + value.dump());
    Trainer t(parse_train_config(j));
    CHECK_THROWS_WITH_AS(t.resume("latest"), doctest::Contains(message.c_str()), Error);
  };
  refused("batch_size", 4, "batch_size was 2 in the checkpoint, 4 now");
  refused("seed", 7, "seed was 0 in the checkpoint, 7 now");
  refused("data.shuffle", false, "data.shuffle was true in the checkpoint, false now");
  refused("batch_size", 4, "mid-epoch (epoch 0, batch 3)");
  refused("batch_size", 4, "--set batch_size=2");
  refused("batch_size", 4, "init_weights=" + checkpoint_paths(dir, 3).weights);
  // The refusal happens before anything is loaded or trimmed: the unchanged config still resumes.
  Trainer same(tiny_config(dir));
  CHECK(same.resume(state) == state);
  CHECK(same.run().losses.size() == 5);
}

TEST_CASE("resume: at an epoch boundary a new seed is allowed, a new batch size is refused saying how to proceed") {
  std::string dir = run_until("mtinet_resume_boundary", 4);  // checkpoint at epoch 1, batch 0
  TrainConfig bigger = tiny_config(dir);
  nlohmann::json j = bigger.source;
  j["batch_size"] = 4;
  Trainer t(parse_train_config(j));
  CHECK_THROWS_WITH_AS(t.resume("latest"),
                       doctest::Contains("at the start of epoch 1: batch_size was 2 in the checkpoint, 4 now"), Error);
  CHECK_THROWS_WITH_AS(t.resume("latest"), doctest::Contains("--set batch_size=2"), Error);
  j = bigger.source;
  j["seed"] = 11;
  Trainer reseeded(parse_train_config(j));
  reseeded.resume("latest");
  CHECK(reseeded.run().losses.size() == 4);
  CHECK(logged_steps(dir) == one_to(8));
}

TEST_CASE("resume: leftovers of interrupted writes are removed, complete checkpoints kept") {
  std::string dir = run_until("mtinet_resume_leftovers", 0);  // complete pairs at steps 4 and 8
  CheckpointPaths four = checkpoint_paths(dir, 4), eight = checkpoint_paths(dir, 8);
  CheckpointPaths lone = checkpoint_paths(dir, 12);
  fs::copy_file(eight.weights, lone.weights);          // killed between the weights and the state write
  write_text(eight.state + ".tmp", "half a state");     // killed before an atomic rename
  write_text(dir + "/metrics.jsonl.tmp", "{\"step\":");
  write_text(dir + "/notes.txt", "the user's");         // not ours: stays
  SUBCASE("on a fresh start") { Trainer t(tiny_config(dir)); }
  SUBCASE("on resume") {
    Trainer t(tiny_config(dir));
    CHECK(t.resume("latest") == eight.state);
  }
  CHECK_FALSE(fs::exists(lone.weights));
  CHECK_FALSE(fs::exists(eight.state + ".tmp"));
  CHECK_FALSE(fs::exists(dir + "/metrics.jsonl.tmp"));
  CHECK(fs::exists(dir + "/notes.txt"));
  for (const CheckpointPaths& p : {four, eight}) {
    CHECK(fs::exists(p.weights));
    CHECK(fs::exists(p.state));
  }
  CHECK(remove_checkpoint_leftovers(dir).empty());
}

// Run 1 stops at step 3; run 2 resumes and goes to step 6 (checkpoints at 4 and 6), then its step-6 state file is
// lost as in a kill between the two writes; run 3 resumes at 4 and writes 5 and 6 again. Each step must be logged
// once, in order, and the evaluation run 2 logged at step 6 must go with its steps.
TEST_CASE("resume: metrics.jsonl has every step once, in order, after resuming twice") {
  std::string dir = run_until("mtinet_resume_log", 3);
  CHECK(logged_steps(dir) == one_to(3));
  TrainConfig to_six = tiny_config(dir);
  to_six.max_steps = 6;
  Trainer second(to_six);
  second.resume("latest");
  second.run();
  CHECK(logged_steps(dir) == one_to(6));
  fs::remove(checkpoint_paths(dir, 6).state);
  std::ofstream(dir + "/metrics.jsonl", std::ios::app) << "{\"step\": 7, \"lo";  // a line cut off by the kill
  Trainer third(tiny_config(dir));
  CHECK(third.resume("latest") == checkpoint_paths(dir, 4).state);
  third.run();
  CHECK(logged_steps(dir) == one_to(8));
  int64_t evals_at_six = 0;
  for (const nlohmann::json& j : metrics_lines(dir))
    if (j.contains("eval") && j.value("step", int64_t(-1)) == 6) ++evals_at_six;
  CHECK(evals_at_six == 0);
}

TEST_CASE("resume: drop_log_records_after keeps earlier lines as they were") {
  std::string dir = fresh_dir("mtinet_resume_drop");
  std::string log = dir + "/metrics.jsonl";
  write_text(log, "{\"step\":1,\"loss\":0.5}\n{\"epoch\":1,\"eval\":{}}\n{\"step\":2,\"loss\":0.25}\n"
                  "{\"epoch\":2,\"eval\":{}}\n{\"note\":1}\n{\"step\":3,\"loss\":0.1}\n{\"step\":4");
  CHECK(drop_log_records_after(log, 2, 1) == 3);  // the epoch-2 evaluation, step 3 and the cut-off line
  std::ifstream in(log);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(all == "{\"step\":1,\"loss\":0.5}\n{\"epoch\":1,\"eval\":{}}\n{\"step\":2,\"loss\":0.25}\n{\"note\":1}\n");
  CHECK(drop_log_records_after(log, 2, 1) == 0);
  CHECK(drop_log_records_after(dir + "/absent.jsonl", 0, 0) == 0);
  CHECK_FALSE(fs::exists(dir + "/absent.jsonl"));
}

// A job restarted after a kill runs `--resume latest` every time, also when the kill came before the first
// checkpoint; a new run (no --resume) into a folder with checkpoints would overwrite and prune them, so it is refused.
TEST_CASE("resume: 'latest' without any checkpoint starts from step 0, and a fresh run over checkpoints is refused") {
  std::string dir = fresh_dir("mtinet_resume_nothing_yet");
  write_text(dir + "/metrics.jsonl", "{\"step\":1,\"epoch\":0,\"loss\":3.5}\n{\"step\":2,\"ep");  // killed mid-line
  {
    Trainer t(tiny_config(dir));
    CHECK(t.resume("latest") == "");
    CHECK(metrics_lines(dir).empty());
  }
  std::string done = run_until("mtinet_resume_fresh_refused", 4);
  Trainer t(tiny_config(done));
  std::string msg = error_message([&] { t.start_fresh(); });
  CHECK(msg.find("already holds 1 checkpoint(s)") != std::string::npos);
  CHECK(msg.find("--resume latest") != std::string::npos);
  CHECK(fs::exists(checkpoint_paths(done, 4).weights));
}
