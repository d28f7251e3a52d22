// What resuming a run needs beyond loading a checkpoint: finding the newest checkpoint that reads back, refusing a
// config that would make the saved loader position mean other samples, and trimming the metrics log back to the
// checkpoint so that a resumed run never logs a step twice.
#pragma once
#include <cstdint>
#include <string>

#include "core/safetensors.h"
#include "train/checkpoint.h"
#include "train/config.h"

namespace mtinet {

// A checkpoint read into memory: both files parsed before anything is applied, so a half-readable pair changes nothing.
struct LoadedCheckpoint {
  std::string state_path;
  SafetensorsContents weights;
  TrainingState state;
};

LoadedCheckpoint read_checkpoint(const std::string& state_path);
// The newest checkpoint in dir whose two files read back. A newer one that does not (truncated by a kill or a full
// disk) is reported on stdout, naming the file and the reason, and skipped; throws when none reads back.
LoadedCheckpoint read_latest_readable_checkpoint(const std::string& dir);

// Throws when `now` changes a setting that decides which samples the checkpoint's loader position stands for
// (batch_size, seed, data.shuffle, data.train_split), naming the old and new values. At an epoch boundary a new seed
// or shuffle only changes the order of epochs not yet begun, so they are allowed (with a note); a new batch size or
// split changes the steps per epoch the step count and the schedule were planned with, so it is refused there too.
void check_resumable_config(const TrainConfig& now, const TrainingState& saved, const std::string& state_path);

// Rewrites the JSON-lines log at `path` (atomically) without the records a run resumed at (step, epoch) writes again:
// those with a "step" after `step`, and epoch evaluations (an "epoch" but no "step") after `epoch`. Lines that are
// not JSON (one cut off by a kill) go too, as the next append would run into them. Returns the lines dropped; the
// file is left untouched when there are none (or it does not exist).
int64_t drop_log_records_after(const std::string& path, int64_t step, int64_t epoch);

}  // namespace mtinet
