#include "train/tensorboard_writer.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>

#include "train/crc32c.h"

namespace mtinet {

namespace {

// Protobuf wire format: a key is (field number << 3) | wire type; 0 varint, 1 fixed 64-bit, 2 length-delimited,
// 5 fixed 32-bit. Integers are little-endian on the wire, as on the x86 and ARM hosts we build for; the bytes are
// still put out one by one so the encoding does not depend on that.
void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(char((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(char(v));
}

void put_fixed(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(char((v >> (8 * i)) & 0xFF));
}

void put_key(std::string& out, int field, int wire_type) { put_varint(out, uint64_t(field << 3 | wire_type)); }

void put_bytes(std::string& out, int field, const std::string& bytes) {
  put_key(out, field, 2);
  put_varint(out, bytes.size());
  out += bytes;
}

std::string encode_value(const Scalar& s) {
  std::string v;
  put_bytes(v, 1, s.first);
  uint32_t bits;
  std::memcpy(&bits, &s.second, 4);
  put_key(v, 2, 5);
  put_fixed(v, bits, 4);
  return v;
}

}  // namespace

std::string encode_event(double wall_time, int64_t step, const std::string& file_version,
                         const std::vector<Scalar>& scalars) {
  std::string e;
  uint64_t bits;
  std::memcpy(&bits, &wall_time, 8);
  put_key(e, 1, 1);
  put_fixed(e, bits, 8);
  put_key(e, 2, 0);
  put_varint(e, uint64_t(step));  // int64 as protobuf encodes it: two's complement, so negative steps take 10 bytes
  if (!file_version.empty()) put_bytes(e, 3, file_version);
  if (!scalars.empty()) {
    std::string summary;
    for (const Scalar& s : scalars) put_bytes(summary, 1, encode_value(s));
    put_bytes(e, 5, summary);
  }
  return e;
}

std::string frame_record(const std::string& data) {
  std::string r;
  put_fixed(r, data.size(), 8);
  put_fixed(r, masked_crc32c(r.data(), 8), 4);
  r += data;
  put_fixed(r, masked_crc32c(data.data(), data.size()), 4);
  return r;
}

std::string new_event_file_name() {
  static std::atomic<int> counter{0};
  char host[256] = "localhost";
  if (::gethostname(host, sizeof(host) - 1) != 0) std::strcpy(host, "localhost");
  host[sizeof(host) - 1] = '\0';
  long long seconds = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  return "events.out.tfevents." + std::to_string(seconds) + "." + host + "." + std::to_string(::getpid()) + "." +
         std::to_string(counter++);
}

TensorBoardWriter::TensorBoardWriter(std::unique_ptr<LogSink> sink, AppendLog::Report report)
    : log_(std::move(sink), "the TensorBoard event file", AppendLog::kDefaultQueueLimit, std::move(report)) {
  double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  log_.append(frame_record(encode_event(now, 0, "brain.Event:2", {})));
}

std::unique_ptr<TensorBoardWriter> TensorBoardWriter::in_folder(const std::string& dir, AppendLog::Report report) {
  std::string path = dir + "/" + new_event_file_name();
  return std::make_unique<TensorBoardWriter>(std::make_unique<FileSink>(path, "the TensorBoard event file"),
                                             std::move(report));
}

void TensorBoardWriter::scalars(int64_t step, double wall_time, const std::vector<Scalar>& scalars) {
  if (scalars.empty()) return;
  log_.append(frame_record(encode_event(wall_time, step, "", scalars)));
}

}  // namespace mtinet
