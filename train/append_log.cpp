#include "train/append_log.h"

#include <cstdio>
#include <cstring>

#include "core/error.h"

namespace mtinet {

AppendLog::AppendLog(std::unique_ptr<LogSink> sink, std::string what, size_t queue_limit, Report report)
    : sink_(std::move(sink)), what_(std::move(what)), limit_(queue_limit), report_(std::move(report)) {
  MTINET_CHECK(sink_ != nullptr, what_, ": no sink to write to");
  MTINET_CHECK(limit_ > 0, what_, ": the retry queue must hold at least one record");
}

AppendLog::~AppendLog() {
  try {
    finish();
  } catch (...) {  // a destructor must not throw; finish() only formats messages
  }
}

void AppendLog::say(const std::string& message) const {
  if (report_) {
    report_(message);
  } else {
    std::fprintf(stderr, "%s\n", message.c_str());
  }
}

bool AppendLog::drain() {
  while (!queue_.empty()) {
    const std::string& r = queue_.front();
    SinkWrite w = sink_->write(r.data() + front_done_, r.size() - front_done_);
    front_done_ += w.written;
    if (w.error != 0) {
      if (error_.empty()) {
        error_ = std::strerror(w.error);
        say("warning: cannot write " + what_ + " '" + sink_->name() + "': " + error_ + "; the unwritten records are "
            "kept (up to " + std::to_string(limit_) + ") and retried at every later record");
      }
      return false;
    }
    queue_.pop_front();
    front_done_ = 0;
  }
  return true;
}

bool AppendLog::retry() {
  size_t held = queue_.size();
  bool outage = !error_.empty();
  if (!drain()) return false;
  if (outage) {
    say(what_ + " '" + sink_->name() + "' is writable again: " + std::to_string(held) + " held record(s) written" +
        (dropped_ > 0 ? ", " + std::to_string(dropped_) + " lost while the queue was full" : ""));
    error_.clear();
    full_reported_ = false;
  }
  return true;
}

bool AppendLog::append(std::string record) {
  bool caught_up = queue_.empty() || retry();
  if (queue_.size() >= limit_) {
    ++dropped_;
    if (!full_reported_) {
      full_reported_ = true;
      say("warning: " + what_ + " '" + sink_->name() + "' still cannot be written (" + error_ + ") and " +
          std::to_string(limit_) + " records wait: later records are dropped, and counted, until it recovers");
    }
    return false;
  }
  queue_.push_back(std::move(record));
  // Behind a failing front record, trying the new one would only fail again (and must not overtake it).
  return caught_up && retry();
}

int64_t AppendLog::finish() {
  retry();
  int64_t lost = unwritten();
  if (lost > reported_lost_) {
    reported_lost_ = lost;
    say("error: " + std::to_string(lost) + " record(s) of " + what_ + " '" + sink_->name() + "' could not be written (" +
        (error_.empty() ? std::string("the retry queue was full") : error_) + ")");
  }
  return lost;
}

void AppendLog::reopen(std::unique_ptr<LogSink> sink) {
  MTINET_CHECK(sink != nullptr, what_, ": no sink to write to");
  sink_ = std::move(sink);
  front_done_ = 0;  // the new file holds none of the front record: a part the old one got was trimmed with it
}

}  // namespace mtinet
