// TensorBoard event files, written by hand so that `tensorboard --logdir runs/` plots a run without linking
// TensorFlow or protobuf. A file is a sequence of TFRecords:
//   uint64 length | uint32 masked_crc32c(length bytes) | data | uint32 masked_crc32c(data)   (little-endian)
// each holding one tensorflow.Event protobuf, of which we write the fields
//   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
//   Summary { repeated Value value = 1; }   Value { string tag = 1; float simple_value = 2; }
// The first event carries file_version "brain.Event:2" (TensorBoard reads a file only from such a start).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "train/append_log.h"

namespace mtinet {

using Scalar = std::pair<std::string, float>;  // tag, value

// One encoded Event: wall_time and step always; file_version when not empty; a summary when scalars are given.
std::string encode_event(double wall_time, int64_t step, const std::string& file_version,
                         const std::vector<Scalar>& scalars);
// The TFRecord framing of `data`: length, its masked CRC, the data, its masked CRC.
std::string frame_record(const std::string& data);

// "events.out.tfevents.<unix seconds>.<host>.<pid>.<n>": the name TensorBoard looks for ("tfevents"), unique per
// writer so that two runs (or a resume within the same second) never append to one file.
std::string new_event_file_name();

class TensorBoardWriter {
 public:
  // Writes the file_version event at once, so an empty run still leaves a file TensorBoard accepts. `report` as
  // AppendLog's. The sink is injectable for tests.
  explicit TensorBoardWriter(std::unique_ptr<LogSink> sink, AppendLog::Report report = {});
  // Opens a new event file in `dir` (named by new_event_file_name()).
  static std::unique_ptr<TensorBoardWriter> in_folder(const std::string& dir, AppendLog::Report report = {});

  // One event with these scalars at `step`; nothing is written when `scalars` is empty.
  void scalars(int64_t step, double wall_time, const std::vector<Scalar>& scalars);
  AppendLog& log() { return log_; }

 private:
  AppendLog log_;
};

}  // namespace mtinet
