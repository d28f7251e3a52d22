// Checkpoints, named by optimiser step: <dir>/step_NNNNNNNN.weights.safetensors (the model's state_dict with the
// reference's names, loadable by `mtinet predict` and by PyTorch) and <dir>/step_NNNNNNNN.state.safetensors
// (optimiser, loss balancing, step, loader position). Both are written atomically; only the last k checkpoints are kept.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/safetensors.h"
#include "core/tensor.h"
#include "data/loader.h"

namespace mtinet {

struct TrainingState {
  int64_t step = 0;          // optimiser steps taken
  LoaderState loader;        // where the next batch comes from
  std::vector<std::pair<std::string, Tensor>> tensors;  // optimiser and balancer state
  std::string config_json;   // the config the checkpoint was written with ("" in files that lack it)
};

struct CheckpointPaths {
  std::string weights, state;
};

CheckpointPaths checkpoint_paths(const std::string& dir, int64_t step);
// The pair a '*.state.safetensors' file belongs to (the weights file beside it); throws for any other name.
CheckpointPaths checkpoint_paths_of_state(const std::string& state_path);
// Writes the state file; the caller writes the weights (Module::save) first, so a state file only ever exists
// beside complete weights. Then removes checkpoints older than the newest keep_last.
void write_training_state(const std::string& path, const TrainingState& s, const std::string& config_json);
TrainingState read_training_state(const std::string& path);
// True for the contents of a state file (its "format" metadata), e.g. to refuse one passed as weights.
bool is_training_state(const SafetensorsContents& file);
void prune_checkpoints(const std::string& dir, int keep_last);
// The newest complete checkpoint in dir (both files present), if any.
std::optional<CheckpointPaths> latest_checkpoint(const std::string& dir);
// Every complete checkpoint in dir (both files present), newest first: the candidates `--resume latest` tries in turn
// when the newest one turns out unreadable.
std::vector<CheckpointPaths> complete_checkpoints(const std::string& dir);
// Removes what interrupted writes leave in a checkpoint folder: '*.tmp' files (an atomic write killed before its
// rename) and 'step_N.weights.safetensors' without its state file (a checkpoint killed between its two writes).
// Complete pairs are never touched. Returns the names removed.
std::vector<std::string> remove_checkpoint_leftovers(const std::string& dir);

}  // namespace mtinet
