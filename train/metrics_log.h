// A training run's log: one JSON line per record in <checkpoint dir>/metrics.jsonl (the complete record, for
// scripts) and, unless turned off (log.tensorboard), the record's scalars in a TensorBoard event file beside it (for
// `tensorboard --logdir`). Both go through AppendLog: every write checked, failures reported and retried, and what
// is never written counted by finish() -- the training command then exits non-zero (tools/cmd_train.cpp).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "train/append_log.h"
#include "train/tensorboard_writer.h"

namespace mtinet {

// The scalars TensorBoard plots for a metrics.jsonl record: "loss/total", "loss/<task>", "loss_weight/<task>",
// "lr", "images_per_s", and for an evaluation "eval/<task>/<metric>" (scalar metrics only: no per-class arrays, no
// pixel or image counts).
std::vector<Scalar> tensorboard_scalars(const nlohmann::json& record);

class MetricsLog {
 public:
  // Opens <dir>/metrics.jsonl for appending (throws naming the file and the reason: "Permission denied", "No such
  // file or directory", ...) and, with `tensorboard`, a new event file in dir.
  MetricsLog(const std::string& dir, bool tensorboard, AppendLog::Report report = {});
  // Any sinks (tests); `events` may be null (no TensorBoard file).
  MetricsLog(std::unique_ptr<LogSink> jsonl, std::unique_ptr<LogSink> events, AppendLog::Report report = {});

  // Appends `record` as one line, and its scalars as an event at its "step" (or at `step` when it has none, as an
  // epoch's evaluation).
  void write(const nlohmann::json& record, int64_t step);
  // A run resumed at (step, epoch) writes the later records again: drops them from metrics.jsonl
  // (drop_log_records_after) and from the older event files in the folder. Returns the metrics.jsonl lines dropped.
  int64_t drop_records_after(int64_t step, int64_t epoch);
  // Retries what is held and returns how many records (both files) were never written, reporting them.
  int64_t finish();

  const std::string& path() const { return path_; }
  AppendLog& jsonl() { return *jsonl_; }
  TensorBoardWriter* tensorboard() { return events_.get(); }

 private:
  std::string path_;  // metrics.jsonl's path (the jsonl sink's name)
  std::unique_ptr<AppendLog> jsonl_;
  std::unique_ptr<TensorBoardWriter> events_;  // null when off
  std::string events_file_;                    // its file name, kept when older event files are trimmed
};

}  // namespace mtinet
