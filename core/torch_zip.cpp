// Zip archive reading for torch.save() files. All offsets come from the file, so each is checked against the file
// size before use, with overflow-safe arithmetic: a corrupt or hostile archive fails with a message, never reads
// outside the buffer.
#include "core/torch_zip.h"

#include <array>
#include <cstring>

#include "core/error.h"

namespace mtinet::torch_detail {

namespace {

constexpr uint32_t kZip64EndSig = 0x06064b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr uint64_t kEndBytes = 22;
constexpr uint64_t kZip64EndBytes = 56, kZip64LocatorBytes = 20;
constexpr uint16_t kZip64ExtraId = 0x0001;

template <class... Parts>
[[noreturn]] void fail(const std::string& source, const Parts&... parts) {
  throw Error(detail::concat("torch file '", source, "': zip archive: ", parts...));
}

uint16_t u16(const uint8_t* p) { return uint16_t(p[0] | (p[1] << 8)); }
uint32_t u32(const uint8_t* p) { return uint32_t(u16(p)) | (uint32_t(u16(p + 2)) << 16); }
uint64_t u64(const uint8_t* p) { return uint64_t(u32(p)) | (uint64_t(u32(p + 4)) << 32); }

// True when [offset, offset + n) lies inside a buffer of `size` bytes (no overflow for any inputs).
bool in_bounds(uint64_t offset, uint64_t n, uint64_t size) { return offset <= size && n <= size - offset; }

const std::array<uint32_t, 256>& crc_table() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  return table;
}

}  // namespace

uint32_t crc32(const uint8_t* p, uint64_t n) {
  const auto& t = crc_table();
  uint32_t c = 0xFFFFFFFFu;
  for (uint64_t i = 0; i < n; ++i) c = t[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

namespace {

struct Directory {
  uint64_t entries = 0, offset = 0, size = 0;
};

// Finds the end-of-central-directory record (it may be followed by a comment of up to 65535 bytes) and, when the
// archive needs them, the zip64 records before it.
Directory find_directory(const uint8_t* data, uint64_t size, const std::string& source) {
  if (size < kEndBytes) fail(source, "file is ", size, " bytes, too short for a zip archive (truncated file?)");
  uint64_t lowest = size - kEndBytes > 65535 ? size - kEndBytes - 65535 : 0;
  uint64_t pos = size - kEndBytes;
  while (u32(data + pos) != kEndSig || pos + kEndBytes + u16(data + pos + 20) > size) {
    if (pos == lowest) fail(source, "no end-of-central-directory record (truncated file?)");
    --pos;
  }
  const uint8_t* end = data + pos;
  if (u16(end + 4) != 0 || u16(end + 6) != 0) fail(source, "multi-disk archives are not supported");
  Directory d{u16(end + 10), u32(end + 16), u32(end + 12)};
  if (pos >= kZip64LocatorBytes && u32(data + pos - kZip64LocatorBytes) == kZip64LocatorSig) {
    uint64_t at = u64(data + pos - kZip64LocatorBytes + 8);
    if (!in_bounds(at, kZip64EndBytes, size) || u32(data + at) != kZip64EndSig) {
      fail(source, "the zip64 locator points at byte ", at, ", where there is no zip64 end record");
    }
    d = Directory{u64(data + at + 32), u64(data + at + 48), u64(data + at + 40)};
  } else if (d.entries == 0xFFFF || d.offset == 0xFFFFFFFFu || d.size == 0xFFFFFFFFu) {
    fail(source, "the end record asks for zip64 values but there is no zip64 locator");
  }
  if (!in_bounds(d.offset, d.size, size)) {
    fail(source, "central directory (", d.size, " bytes at byte ", d.offset, ") extends past the end of the ",
         size, "-byte file (truncated file?)");
  }
  if (d.entries > d.size / kCentralHeaderBytes) {
    fail(source, "central directory of ", d.size, " bytes cannot hold the ", d.entries, " entries it declares");
  }
  return d;
}

// Replaces the 32-bit fields that hold 0xFFFFFFFF by their values in the zip64 extra field, in the order the
// format lists them (uncompressed size, compressed size, local header offset).
void apply_zip64_extra(const uint8_t* extra, uint64_t n, uint64_t& usize, uint64_t& csize, uint64_t& offset,
                       const std::string& name, const std::string& source) {
  uint64_t* fields[3] = {&usize, &csize, &offset};
  bool needed = false;
  for (uint64_t* f : fields) needed |= *f == 0xFFFFFFFFu;
  if (!needed) return;
  for (uint64_t pos = 0; pos + 4 <= n;) {
    uint16_t id = u16(extra + pos), len = u16(extra + pos + 2);
    if (!in_bounds(pos + 4, len, n)) break;
    if (id == kZip64ExtraId) {
      uint64_t at = pos + 4;
      for (uint64_t* f : fields) {
        if (*f != 0xFFFFFFFFu) continue;
        if (at + 8 > pos + 4 + len) fail(source, "entry '", name, "': zip64 extra field too short");
        *f = u64(extra + at);
        at += 8;
      }
      return;
    }
    pos += 4 + uint64_t(len);
  }
  fail(source, "entry '", name, "' needs zip64 sizes but has no zip64 extra field");
}

}  // namespace

bool looks_like_zip(const uint8_t* data, uint64_t size) { return size >= 4 && u32(data) == kLocalHeaderSig; }

ZipArchive::ZipArchive(const uint8_t* data, uint64_t size, const std::string& source)
    : data_(data), size_(size), source_(source) {
  Directory d = find_directory(data, size, source);
  uint64_t pos = d.offset, end = d.offset + d.size;
  for (uint64_t i = 0; i < d.entries; ++i) {
    if (!in_bounds(pos, kCentralHeaderBytes, end) || u32(data + pos) != kCentralHeaderSig) {
      fail(source, "central directory entry ", i, " at byte ", pos, " is damaged");
    }
    const uint8_t* h = data + pos;
    uint16_t flags = u16(h + 8), method = u16(h + 10);
    uint64_t name_len = u16(h + 28), extra_len = u16(h + 30), comment_len = u16(h + 32);
    uint64_t csize = u32(h + 20), usize = u32(h + 24), local = u32(h + 42);
    if (!in_bounds(pos + kCentralHeaderBytes, name_len + extra_len + comment_len, end)) {
      fail(source, "central directory entry ", i, " extends past the directory");
    }
    std::string name(reinterpret_cast<const char*>(h + kCentralHeaderBytes), name_len);
    apply_zip64_extra(h + kCentralHeaderBytes + name_len, extra_len, usize, csize, local, name, source);
    if (flags & 1) fail(source, "entry '", name, "' is encrypted");
    if (method != 0) {
      fail(source, "entry '", name, "' is compressed (method ", method, "); torch.save stores entries uncompressed");
    }
    if (csize != usize) fail(source, "entry '", name, "' is stored but its sizes differ (", csize, " vs ", usize, ")");
    // The local header repeats the name; its extra field may differ (torch pads it to align the data).
    if (!in_bounds(local, kLocalHeaderBytes, size) || u32(data + local) != kLocalHeaderSig) {
      fail(source, "entry '", name, "': no local header at byte ", local, " (truncated or damaged file?)");
    }
    uint64_t local_name = u16(data + local + 26), local_extra = u16(data + local + 28);
    uint64_t start = local + kLocalHeaderBytes + local_name + local_extra;
    if (local_name != name_len || !in_bounds(local + kLocalHeaderBytes, local_name, size) ||
        std::memcmp(data + local + kLocalHeaderBytes, name.data(), name_len) != 0) {
      fail(source, "entry '", name, "': the local header names a different entry");
    }
    if (!in_bounds(start, usize, size)) {
      fail(source, "entry '", name, "' (", usize, " bytes at byte ", start, ") extends past the end of the ", size,
           "-byte file (truncated file?)");
    }
    if (!entries_.emplace(name, ZipEntry{name, start, usize, u32(h + 16)}).second) {
      fail(source, "entry '", name, "' appears twice");
    }
    pos += kCentralHeaderBytes + name_len + extra_len + comment_len;
  }
}

const ZipEntry* ZipArchive::find(const std::string& name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second;
}

const uint8_t* ZipArchive::bytes(const ZipEntry& e) const {
  uint32_t crc = crc32(data_ + e.data_offset, e.size);
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  crc = e.crc32;  // tools/fuzz.sh only: let mutated entries reach the unpickler (a fuzzer cannot forge CRCs)
#endif
  if (crc != e.crc32) {
    fail(source_, "entry '", e.name, "' is corrupt: CRC-32 ", crc, " does not match the recorded ", e.crc32);
  }
  return data_ + e.data_offset;
}

}  // namespace mtinet::torch_detail
