// The zip store writer behind save_torch_state_dict(). Field layouts follow the zip specification (APPNOTE.TXT
// 4.3.7, 4.3.12, 4.3.16); the reader beside it (core/torch_zip.cpp) and torch's miniz both read what this writes.
#include "core/torch_zip_writer.h"

#include "core/error.h"
#include "core/torch_zip.h"

namespace mtinet::torch_detail {

namespace {
constexpr uint16_t kVersion = 20;        // "version needed to extract": 2.0, plain stored entries
constexpr uint16_t kDosDate = 0x21;      // 1980-01-01: a fixed date, so equal inputs give equal files
constexpr uint16_t kPaddingId = 0x4246;  // "FB", the extra-field id torch's writer pads with
constexpr uint64_t kMax32 = 0xFFFFFFFEu;  // 0xFFFFFFFF itself means "see zip64"
}  // namespace

ZipStoreWriter::ZipStoreWriter(std::ostream& out, std::string target) : out_(out), target_(std::move(target)) {}

void ZipStoreWriter::put(const void* data, uint64_t n) {
  out_.write(static_cast<const char*>(data), std::streamsize(n));
  if (!out_) throw Error(detail::concat("writing torch file '", target_, "' failed (disk full?)"));
  pos_ += n;
}

void ZipStoreWriter::put_u16(uint64_t v) {
  const uint8_t b[2] = {uint8_t(v), uint8_t(v >> 8)};
  put(b, 2);
}

void ZipStoreWriter::put_u32(uint64_t v) {
  const uint8_t b[4] = {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)};
  put(b, 4);
}

void ZipStoreWriter::check_fits(uint64_t value, const std::string& what) const {
  if (value > kMax32) {
    throw Error(detail::concat("writing torch file '", target_, "': ", what, " passes 4 GiB, which needs zip64 ",
                               "records this writer does not write; save as .safetensors instead"));
  }
}

void ZipStoreWriter::add(const std::string& name, const void* data, uint64_t size) {
  MTINET_CHECK(!finished_, "ZipStoreWriter::add after finish");
  MTINET_CHECK(!name.empty() && name.size() < 0xFFFF, "zip entry name of ", name.size(), " bytes");
  check_fits(pos_, "the archive");
  check_fits(size, "entry '" + name + "'");
  // Pad with an extra field so that the data starts on a kAlignment boundary; a field is at least its 4-byte head.
  uint64_t unpadded = pos_ + kLocalHeaderBytes + name.size();
  uint64_t extra = 0;
  if (unpadded % kAlignment != 0) {
    uint64_t pad = (kAlignment - (unpadded + 4) % kAlignment) % kAlignment;
    extra = 4 + pad;
  }
  const uint32_t crc = crc32(static_cast<const uint8_t*>(data), size);
  written_.push_back({name, crc, size, pos_});

  put_u32(kLocalHeaderSig);
  put_u16(kVersion);
  put_u16(0);  // flags: sizes and CRC are in this header, no data descriptor
  put_u16(0);  // method: stored
  put_u16(0);  // time
  put_u16(kDosDate);
  put_u32(crc);
  put_u32(size);  // compressed size
  put_u32(size);  // uncompressed size
  put_u16(name.size());
  put_u16(extra);
  put(name.data(), name.size());
  if (extra) {
    put_u16(kPaddingId);
    put_u16(extra - 4);
    const std::string zeros(extra - 4, 'Z');  // torch pads with 'Z'
    put(zeros.data(), zeros.size());
  }
  put(data, size);
}

void ZipStoreWriter::finish() {
  MTINET_CHECK(!finished_, "ZipStoreWriter::finish called twice");
  finished_ = true;
  if (written_.size() >= 0xFFFF) {
    throw Error(detail::concat("writing torch file '", target_, "': ", written_.size(),
                               " entries need zip64 records this writer does not write"));
  }
  const uint64_t directory = pos_;
  check_fits(directory, "the archive");
  for (const Written& w : written_) {
    put_u32(kCentralHeaderSig);
    put_u16(kVersion);  // version made by (MS-DOS attributes: none set)
    put_u16(kVersion);
    put_u16(0);
    put_u16(0);
    put_u16(0);
    put_u16(kDosDate);
    put_u32(w.crc32);
    put_u32(w.size);
    put_u32(w.size);
    put_u16(w.name.size());
    put_u16(0);  // extra
    put_u16(0);  // comment
    put_u16(0);  // disk
    put_u16(0);  // internal attributes
    put_u32(0);  // external attributes
    put_u32(w.header_offset);
    put(w.name.data(), w.name.size());
  }
  const uint64_t directory_size = pos_ - directory;
  check_fits(directory_size, "the central directory");
  put_u32(kEndSig);
  put_u16(0);  // this disk
  put_u16(0);  // the directory's disk
  put_u16(written_.size());
  put_u16(written_.size());
  put_u32(directory_size);
  put_u32(directory);
  put_u16(0);  // comment
}

}  // namespace mtinet::torch_detail
