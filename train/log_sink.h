// Where a log's bytes go: an interface, so that tests can put a sink that fails (a full disk, a lost network mount)
// and later recovers under the logs (train/append_log.h), and the file every run writes to.
#pragma once
#include <cstddef>
#include <string>

namespace mtinet {

struct SinkWrite {
  size_t written = 0;  // bytes taken, from the start of what was offered (a full disk may take part of a record)
  int error = 0;       // errno of the failure, 0 when everything offered was written
};

class LogSink {
 public:
  virtual ~LogSink() = default;
  // Writes data[0, n) and hands it to the operating system (no user-space buffer is left holding it).
  virtual SinkWrite write(const char* data, size_t n) = 0;
  // What messages call the sink: the file's path.
  virtual std::string name() const = 0;
};

// A file opened for appending, created when absent. The writes go straight to write(2): every record reaches the
// kernel when it is written, and the errno of a failure ("No space left on device") is the reason reported. No
// fsync: a log that survives a process kill is enough, and a sync per training step would cost a disk round trip.
class FileSink : public LogSink {
 public:
  // Throws naming `what` ("the metrics log"), the file and the reason, e.g.
  //   cannot open the metrics log 'runs/x/metrics.jsonl': Permission denied
  FileSink(const std::string& path, const std::string& what);
  ~FileSink() override;
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;

  SinkWrite write(const char* data, size_t n) override;
  std::string name() const override { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace mtinet
