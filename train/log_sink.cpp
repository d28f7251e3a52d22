#include "train/log_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace mtinet {

FileSink::FileSink(const std::string& path, const std::string& what) : path_(path) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  MTINET_CHECK(fd_ >= 0, "cannot open ", what, " '", path, "': ", std::strerror(errno));
}

FileSink::~FileSink() {
  if (fd_ >= 0) ::close(fd_);
}

SinkWrite FileSink::write(const char* data, size_t n) {
  SinkWrite r;
  while (r.written < n) {
    ssize_t k = ::write(fd_, data + r.written, n - r.written);
    if (k < 0 && errno == EINTR) continue;  // a signal arrived before anything was written: not a failure
    if (k < 0) {
      r.error = errno;
      return r;
    }
    if (k == 0) {  // write(2) taking nothing without an error: treat as a full disk rather than spin
      r.error = ENOSPC;
      return r;
    }
    r.written += size_t(k);
  }
  return r;
}

}  // namespace mtinet
