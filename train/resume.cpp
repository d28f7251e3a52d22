#include "train/resume.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/file_io.h"

namespace mtinet {

LoadedCheckpoint read_checkpoint(const std::string& state_path) {
  LoadedCheckpoint c;
  c.state_path = state_path;
  c.weights = load_safetensors(checkpoint_paths_of_state(state_path).weights);
  c.state = read_training_state(state_path);
  return c;
}

LoadedCheckpoint read_latest_readable_checkpoint(const std::string& dir) {
  std::vector<CheckpointPaths> candidates = complete_checkpoints(dir);
  MTINET_CHECK(!candidates.empty(), "--resume latest: no checkpoint in '", dir, "'");
  for (const CheckpointPaths& p : candidates) {
    try {
      return read_checkpoint(p.state);
    } catch (const std::exception& e) {  // not only Error: a short file may also fail an allocation or a parse
      std::printf("--resume latest: skipping the unreadable checkpoint '%s' (%s); trying the previous one\n",
                  p.state.c_str(), without_source_locations(e.what()).c_str());
    }
  }
  MTINET_FAIL("--resume latest: none of the ", candidates.size(), " checkpoints in '", dir,
              "' reads back (each reported above)");
}

namespace {

// One setting that decides which samples a loader position stands for, as "key: OLD in the checkpoint, NEW now".
struct Change {
  std::string key, was, now;
  bool changes_epoch_length;  // batch size and split: steps per epoch differ, not only the order
};

template <class T>
std::string shown(const T& v) {
  std::ostringstream os;
  os << std::boolalpha << v;
  return os.str();
}

std::vector<Change> sample_plan_changes(const TrainConfig& was, const TrainConfig& now) {
  std::vector<Change> out;
  auto compare = [&](const std::string& key, const auto& a, const auto& b, bool length) {
    if (!(a == b)) out.push_back({key, shown(a), shown(b), length});
  };
  compare("batch_size", was.batch_size, now.batch_size, true);
  compare("data.dataset", was.data.dataset, now.data.dataset, true);
  compare("data.train_split", was.data.train_split, now.data.train_split, true);
  compare("seed", was.seed, now.seed, false);
  compare("data.shuffle", was.data.shuffle, now.data.shuffle, false);
  return out;
}

std::string describe(const std::vector<Change>& changes) {
  std::string s;
  for (const Change& c : changes) {
    if (!s.empty()) s += "; ";
    s += c.key + " was " + c.was + " in the checkpoint, " + c.now + " now";
  }
  return s;
}

std::string how_to_proceed(const std::vector<Change>& changes, const std::string& state_path) {
  std::string sets;
  for (const Change& c : changes) sets += " --set " + c.key + "=" + c.was;
  return "resume with the checkpoint's values (" + sets.substr(1) + "), or start a new run in another "
         "checkpoint.dir from its weights with --set init_weights=" + checkpoint_paths_of_state(state_path).weights +
         " (the optimiser state then starts afresh)";
}

}  // namespace

void check_resumable_config(const TrainConfig& now, const TrainingState& saved, const std::string& state_path) {
  if (saved.config_json.empty()) return;  // written before checkpoints kept their config: nothing to compare
  TrainConfig was;
  try {
    was = parse_train_config(nlohmann::json::parse(saved.config_json));
  } catch (const std::exception& e) {  // a config of an older version: resuming is still the user's call
    std::printf("resume: cannot compare with the config saved in '%s' (%s); not checking batch size, seed or data "
                "order\n", state_path.c_str(), without_source_locations(e.what()).c_str());
    return;
  }
  std::vector<Change> changes = sample_plan_changes(was, now);
  if (changes.empty()) return;
  const LoaderState& at = saved.loader;
  if (at.next_batch > 0) {
    MTINET_FAIL("cannot resume from '", state_path, "' mid-epoch (epoch ", at.epoch, ", batch ", at.next_batch,
                "): ", describe(changes), ". The saved position would then skip or repeat samples; ",
                how_to_proceed(changes, state_path));
  }
  std::vector<Change> refused;
  for (const Change& c : changes)
    if (c.changes_epoch_length) refused.push_back(c);
  if (!refused.empty()) {
    MTINET_FAIL("cannot resume from '", state_path, "' at the start of epoch ", at.epoch, ": ", describe(refused),
                ". That changes the steps per epoch, which the step count, the checkpoint names and the learning-rate "
                "schedule were planned with; ", how_to_proceed(refused, state_path));
  }
  std::printf("resume: %s; epochs from %lld on follow the new order\n", describe(changes).c_str(),
              static_cast<long long>(at.epoch));
}

namespace {
// Whether a log line belongs after the resume position (step, epoch), so the resumed run writes it again.
bool logged_after(const std::string& line, int64_t step, int64_t epoch) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return true;  // cut off mid-write: the next append would run into it
  if (j.contains("step")) return j["step"].is_number() && j["step"].get<int64_t>() > step;
  return j.contains("epoch") && j["epoch"].is_number() && j["epoch"].get<int64_t>() > epoch;
}
}  // namespace

int64_t drop_log_records_after(const std::string& path, int64_t step, int64_t epoch) {
  std::ifstream in(path);
  if (!in.good()) return 0;
  std::vector<std::string> kept;
  int64_t dropped = 0;
  for (std::string line; std::getline(in, line);) {
    if (logged_after(line, step, epoch)) {
      ++dropped;
    } else {
      kept.push_back(line);
    }
  }
  in.close();
  if (dropped == 0) return 0;
  write_file_atomic(path, [&](std::ostream& out) {
    for (const std::string& line : kept) out << line << "\n";
  });
  return dropped;
}

}  // namespace mtinet
