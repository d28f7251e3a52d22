#include "train/tensorboard_reader.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/error.h"
#include "core/file_io.h"
#include "train/crc32c.h"

namespace mtinet {

namespace {

uint64_t get_fixed(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

// A cursor over protobuf bytes; every read checks that the bytes are there.
struct Wire {
  const std::string& s;
  size_t at = 0;
  bool done() const { return at >= s.size(); }
  void need(size_t n) const {
    MTINET_CHECK(n <= s.size() - at, "malformed protobuf: ", n, " byte(s) needed at offset ", at, " of ", s.size());
  }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      need(1);
      unsigned char b = static_cast<unsigned char>(s[at++]);
      v |= uint64_t(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
    MTINET_FAIL("malformed protobuf: a varint longer than 10 bytes at offset ", at);
  }
  uint64_t fixed(int bytes) {
    need(size_t(bytes));
    uint64_t v = get_fixed(s.data() + at, bytes);
    at += size_t(bytes);
    return v;
  }
  std::string bytes() {
    uint64_t n = varint();
    need(n);
    std::string b = s.substr(at, n);
    at += n;
    return b;
  }
  void skip(int wire_type) {
    switch (wire_type) {
      case 0: varint(); break;
      case 1: fixed(8); break;
      case 2: bytes(); break;
      case 5: fixed(4); break;
      default: MTINET_FAIL("malformed protobuf: wire type ", wire_type, " at offset ", at);
    }
  }
};

Scalar decode_value(const std::string& data) {
  Scalar v;
  for (Wire w{data}; !w.done();) {
    uint64_t key = w.varint();
    if (key == (1 << 3 | 2)) {
      v.first = w.bytes();
    } else if (key == (2 << 3 | 5)) {
      uint32_t bits = uint32_t(w.fixed(4));
      std::memcpy(&v.second, &bits, 4);
    } else {
      w.skip(int(key & 7));
    }
  }
  return v;
}

}  // namespace

std::vector<std::string> read_tfrecords(const std::string& path, bool allow_cut_tail, bool* cut_tail) {
  std::ifstream f(path, std::ios::binary);
  MTINET_CHECK(f.good(), "cannot open the event file '", path, "': ", std::strerror(errno));
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (cut_tail) *cut_tail = false;
  std::vector<std::string> records;
  size_t at = 0;
  while (at < all.size()) {
    size_t left = all.size() - at;
    uint64_t n = left >= 12 ? get_fixed(all.data() + at, 8) : 0;
    bool whole = left >= 12 && n <= left - 16;
    if (left >= 12) {
      uint32_t stored = uint32_t(get_fixed(all.data() + at + 8, 4));
      MTINET_CHECK(stored == masked_crc32c(all.data() + at, 8), "event file '", path, "': the record at byte ", at,
                   " has a length whose CRC does not match (corrupt file)");
    }
    if (!whole) {
      MTINET_CHECK(allow_cut_tail, "event file '", path, "': the record at byte ", at, " is cut short (", left,
                   " byte(s) left, ", left >= 12 ? std::to_string(n + 16) : std::string("at least 16"), " needed)");
      if (cut_tail) *cut_tail = true;
      break;
    }
    std::string data = all.substr(at + 12, n);
    uint32_t stored = uint32_t(get_fixed(all.data() + at + 12 + n, 4));
    MTINET_CHECK(stored == masked_crc32c(data.data(), data.size()), "event file '", path, "': the record at byte ",
                 at, " has data whose CRC does not match (corrupt file)");
    records.push_back(std::move(data));
    at += 16 + n;
  }
  return records;
}

Event decode_event(const std::string& data) {
  Event e;
  for (Wire w{data}; !w.done();) {
    uint64_t key = w.varint();
    if (key == (1 << 3 | 1)) {
      uint64_t bits = w.fixed(8);
      std::memcpy(&e.wall_time, &bits, 8);
    } else if (key == (2 << 3 | 0)) {
      e.step = int64_t(w.varint());
    } else if (key == (3 << 3 | 2)) {
      e.file_version = w.bytes();
    } else if (key == (5 << 3 | 2)) {
      std::string summary = w.bytes();
      for (Wire sw{summary}; !sw.done();) {
        uint64_t k = sw.varint();
        if (k == (1 << 3 | 2)) {
          e.scalars.push_back(decode_value(sw.bytes()));
        } else {
          sw.skip(int(k & 7));
        }
      }
    } else {
      w.skip(int(key & 7));
    }
  }
  return e;
}

std::vector<Event> read_event_file(const std::string& path) {
  std::vector<Event> events;
  for (const std::string& r : read_tfrecords(path)) {
    try {
      events.push_back(decode_event(r));
    } catch (const Error& e) {
      MTINET_FAIL("event file '", path, "', event ", events.size(), ": ", e.what());
    }
  }
  return events;
}

int64_t drop_events_after(const std::string& dir, int64_t step, const std::string& keep) {
  namespace fs = std::filesystem;
  int64_t dropped_total = 0;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name == keep || name.find("tfevents") == std::string::npos || !entry.is_regular_file()) continue;
    bool cut = false;
    std::string kept;
    int64_t dropped = 0;
    try {
      std::vector<std::string> records = read_tfrecords(entry.path().string(), /*allow_cut_tail=*/true, &cut);
      dropped = cut ? 1 : 0;
      for (const std::string& r : records) {
        if (decode_event(r).step > step) {
          ++dropped;
        } else {
          kept += frame_record(r);
        }
      }
    } catch (const Error& e) {
      // Old curves that cannot be read must not stop a run from resuming; TensorBoard skips what it cannot read.
      std::fprintf(stderr, "warning: event file '%s' left as it is (not trimmed for the resume): %s\n",
                   entry.path().c_str(), e.what());
      continue;
    }
    if (dropped == 0) continue;
    write_file_atomic(entry.path().string(), kept.data(), kept.size());
    dropped_total += dropped;
  }
  return dropped_total;
}

}  // namespace mtinet
