// Records appended to a sink, none dropped silently. Every write is checked; a record the sink does not take (a full
// disk, a read-only remount, a lost network mount) is kept in a bounded queue and written, in order, before the next
// record, so a log outage of a few steps costs nothing. An outage is reported once, with its reason, and its end is
// reported too; records the full queue cannot hold are counted, and finish() reports everything never written.
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "train/log_sink.h"

namespace mtinet {

class AppendLog {
 public:
  // A training run writes a few records per step: 1000 covers minutes of outage in a few hundred kB.
  static constexpr size_t kDefaultQueueLimit = 1000;
  using Report = std::function<void(const std::string&)>;

  // `what` names the log in messages ("the metrics log"); `report` receives them (default: a line on stderr).
  AppendLog(std::unique_ptr<LogSink> sink, std::string what, size_t queue_limit = kDefaultQueueLimit,
            Report report = {});
  // Retries once more, and reports what was never written (finish()).
  ~AppendLog();
  AppendLog(const AppendLog&) = delete;
  AppendLog& operator=(const AppendLog&) = delete;

  // Writes the queued records, then `record` (whole bytes: a JSON line with its newline, a framed event). Returns
  // true when nothing is left unwritten; false when `record` is queued, or dropped because the queue is full.
  bool append(std::string record);
  // Writes the queued records; true when none are left.
  bool retry();
  // Retries, then reports (once per new loss) how many records were never written; returns that count.
  int64_t finish();
  // Swaps in a new sink (the file was rewritten under the old one, dropping any cut-off record); the queue is kept
  // and its front record is written whole.
  void reopen(std::unique_ptr<LogSink> sink);

  size_t queued() const { return queue_.size(); }
  int64_t dropped() const { return dropped_; }             // records the full queue could not hold
  int64_t unwritten() const { return int64_t(queue_.size()) + dropped_; }
  const std::string& last_error() const { return error_; }  // strerror of the outage in progress, "" when none
  std::string name() const { return sink_->name(); }

 private:
  bool drain();  // writes the queue front to back, stopping at the first failure
  void say(const std::string& message) const;

  std::unique_ptr<LogSink> sink_;
  std::string what_;
  size_t limit_;
  Report report_;
  std::deque<std::string> queue_;
  size_t front_done_ = 0;  // bytes of queue_.front() already written (the sink took part of it)
  int64_t dropped_ = 0;
  int64_t reported_lost_ = 0;
  std::string error_;
  bool full_reported_ = false;
};

}  // namespace mtinet
