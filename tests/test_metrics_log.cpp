// The training log never drops a record silently: a failing sink (a full disk: /dev/full fails every write with
// ENOSPC) is reported once with its reason, the records are held and written in order once it recovers, a part
// written before the failure is completed rather than repeated, the bounded queue counts what it cannot hold, and
// files that cannot be opened are named with the reason.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "scratch.h"
#include "train/append_log.h"
#include "train/metrics_log.h"
#include "train/tensorboard_reader.h"

using namespace mtinet;
namespace fs = std::filesystem;

namespace {

// A disk that can fill up and be cleared: while full it takes `accept_bytes` bytes once, then fails with ENOSPC.
struct FlakySink : LogSink {
  std::string* out;  // what reached the "disk" (owned by the test: the log owns the sink)
  bool full = false;
  size_t accept_bytes = 0;
  explicit FlakySink(std::string* o) : out(o) {}
  SinkWrite write(const char* data, size_t n) override {
    if (!full) {
      out->append(data, n);
      return {n, 0};
    }
    size_t k = std::min(n, accept_bytes);
    out->append(data, k);
    accept_bytes -= k;
    return {k, ENOSPC};
  }
  std::string name() const override { return "flaky.jsonl"; }
};

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("metrics log: a failed write is reported once with its reason and retried until the sink recovers") {
  std::string disk;
  auto sink = std::make_unique<FlakySink>(&disk);
  FlakySink* flaky = sink.get();
  std::vector<std::string> messages;
  AppendLog log(std::move(sink), "the metrics log", 10, [&](const std::string& m) { messages.push_back(m); });
  CHECK(log.append("a\n"));
  flaky->full = true;
  CHECK_FALSE(log.append("b\n"));
  CHECK_FALSE(log.append("c\n"));
  CHECK_FALSE(log.retry());
  REQUIRE(messages.size() == 1);  // one outage, one warning, however many records it holds back
  CHECK(messages[0].find("'flaky.jsonl'") != std::string::npos);
  CHECK(messages[0].find("No space left on device") != std::string::npos);
  CHECK(log.last_error() == "No space left on device");
  CHECK(log.queued() == 2);
  CHECK(disk == "a\n");
  flaky->full = false;
  CHECK(log.append("d\n"));  // the held records go first, in order
  CHECK(disk == "a\nb\nc\nd\n");
  CHECK(log.queued() == 0);
  CHECK(log.unwritten() == 0);
  CHECK(log.last_error().empty());
  REQUIRE(messages.size() == 2);
  CHECK(messages[1].find("writable again: 2 held record(s) written") != std::string::npos);
  CHECK(log.finish() == 0);
  CHECK(messages.size() == 2);  // nothing lost, nothing to report
}

TEST_CASE("metrics log: a record cut by a full disk is completed, not written twice") {
  std::string disk;
  auto sink = std::make_unique<FlakySink>(&disk);
  FlakySink* flaky = sink.get();
  AppendLog log(std::move(sink), "the metrics log", 10, [](const std::string&) {});
  flaky->full = true;
  flaky->accept_bytes = 5;
  CHECK_FALSE(log.append("{\"step\":1}\n"));
  CHECK(disk == "{\"ste");
  flaky->full = false;
  CHECK(log.append("{\"step\":2}\n"));
  CHECK(disk == "{\"step\":1}\n{\"step\":2}\n");
}

TEST_CASE("metrics log: the bounded queue counts the records it cannot hold, and finish reports every one lost") {
  std::string disk;
  auto sink = std::make_unique<FlakySink>(&disk);
  FlakySink* flaky = sink.get();
  std::vector<std::string> messages;
  AppendLog log(std::move(sink), "the metrics log", 2, [&](const std::string& m) { messages.push_back(m); });
  flaky->full = true;
  for (int i = 0; i < 5; ++i) CHECK_FALSE(log.append("r" + std::to_string(i) + "\n"));
  CHECK(log.queued() == 2);
  CHECK(log.dropped() == 3);
  REQUIRE(messages.size() == 2);  // the failure, then the queue filling up
  CHECK(messages[1].find("later records are dropped, and counted") != std::string::npos);
  CHECK(log.finish() == 5);
  CHECK(messages.back().find("error: 5 record(s) of the metrics log 'flaky.jsonl' could not be written (No space "
                             "left on device)") != std::string::npos);
  size_t reported = messages.size();
  CHECK(log.finish() == 5);
  CHECK(messages.size() == reported);  // the same loss is not reported twice
  flaky->full = false;
  CHECK(log.finish() == 3);  // the two held ones made it; the three dropped stay lost
  CHECK(disk == "r0\nr1\n");
}

TEST_CASE("metrics log: /dev/full fails every write with the reason, and nothing is silently dropped") {
  std::vector<std::string> messages;
  auto report = [&](const std::string& m) { messages.push_back(m); };
  MetricsLog log(std::make_unique<FileSink>("/dev/full", "the metrics log"), nullptr, report);
  log.write({{"step", 1}, {"loss", 0.5}}, 1);
  log.write({{"step", 2}, {"loss", 0.25}}, 2);
  REQUIRE(!messages.empty());
  CHECK(messages[0] == "warning: cannot write the metrics log '/dev/full': No space left on device; the unwritten "
                       "records are kept (up to 1000) and retried at every later record");
  CHECK(log.jsonl().queued() == 2);
  CHECK(log.finish() == 2);
  CHECK(messages.back().find("error: 2 record(s)") != std::string::npos);
}

TEST_CASE("metrics log: a folder that is absent or read-only is named with the reason") {
  std::string absent = "/nonexistent_mtinet_dir_" + std::to_string(::getpid());
  CHECK_THROWS_WITH_AS(MetricsLog(absent, false),
                       doctest::Contains(("cannot open the metrics log '" + absent +
                                          "/metrics.jsonl': No such file or directory").c_str()),
                       Error);
  // root ignores a folder's mode bits, so as root the read-only folder is /sys, which refuses root too.
  std::string read_only = "/sys";
  if (::geteuid() != 0) {
    read_only = test::fresh_dir("mtinet_log_readonly");
    ::chmod(read_only.c_str(), 0555);
  }
  CHECK_THROWS_WITH_AS(MetricsLog(read_only, false),
                       doctest::Contains(("'" + read_only + "/metrics.jsonl': Permission denied").c_str()), Error);
  if (read_only != "/sys") ::chmod(read_only.c_str(), 0755);
}

TEST_CASE("metrics log: resuming drops later records from metrics.jsonl and older event files, then appends") {
  std::string dir = test::fresh_dir("mtinet_log_trim");
  std::string old_events;
  {
    MetricsLog first(dir, true, [](const std::string&) {});
    for (int s = 1; s <= 4; ++s) first.write({{"step", s}, {"loss", 1.0 / s}}, s);
    first.write({{"epoch", 2}, {"eval", {{"semseg", {{"mIoU", 0.5}}}}}}, 4);
    old_events = first.tensorboard()->log().name();
  }
  std::ofstream(old_events, std::ios::app | std::ios::binary) << std::string("\x20\0\0", 3);  // cut by a kill
  std::string garbage = dir + "/events.out.tfevents.0.garbage";
  std::ofstream(garbage) << "not an event file, but long enough to hold a record header";
  MetricsLog second(dir, true, [](const std::string&) {});
  CHECK(second.tensorboard()->log().name() != old_events);
  CHECK(second.drop_records_after(2, 1) == 3);  // steps 3, 4 and the epoch-2 evaluation
  second.write({{"step", 3}, {"loss", 0.3}}, 3);  // must land in the rewritten file, not the unlinked old one
  CHECK(read_all(dir + "/metrics.jsonl") == "{\"loss\":1.0,\"step\":1}\n{\"loss\":0.5,\"step\":2}\n"
                                            "{\"loss\":0.3,\"step\":3}\n");
  CHECK(read_all(garbage) == "not an event file, but long enough to hold a record header");  // warned, kept
  std::vector<Event> old = read_event_file(old_events);  // strict: the cut-off record went with the trim
  REQUIRE(old.size() == 3);  // file_version, steps 1 and 2
  CHECK(old[0].file_version == "brain.Event:2");
  CHECK(old[1].step == 1);
  CHECK(old[2].step == 2);
  std::vector<Event> now = read_event_file(second.tensorboard()->log().name());
  REQUIRE(now.size() == 2);  // this run's file is never trimmed: file_version, then step 3
  CHECK(now[1].step == 3);
  CHECK(second.finish() == 0);
}
