// A reader for the zip archives torch.save() writes (torch >= 1.6): entries are stored uncompressed, so an entry is
// a byte range of the file. Only what such archives use is supported: stored entries, zip64 records for large
// files, no encryption, one disk. Internal to core/torch_file.cpp.
#pragma once
#include <cstdint>
#include <map>
#include <string>

namespace mtinet::torch_detail {

// Record signatures and fixed header sizes of the zip format (APPNOTE.TXT 4.3), shared with the writer.
inline constexpr uint32_t kLocalHeaderSig = 0x04034b50;
inline constexpr uint32_t kCentralHeaderSig = 0x02014b50;
inline constexpr uint32_t kEndSig = 0x06054b50;
inline constexpr uint64_t kLocalHeaderBytes = 30, kCentralHeaderBytes = 46;

struct ZipEntry {
  std::string name;
  uint64_t data_offset = 0;  // where the stored bytes begin in the file
  uint64_t size = 0;
  uint32_t crc32 = 0;
};

class ZipArchive {
 public:
  // Reads and validates the central directory and every local header; `source` names the file in messages.
  ZipArchive(const uint8_t* data, uint64_t size, const std::string& source);
  const ZipEntry* find(const std::string& name) const;  // null when absent
  const std::map<std::string, ZipEntry>& entries() const { return entries_; }
  // The entry's bytes, after checking their CRC-32 (a flipped bit in a weight would otherwise load silently).
  const uint8_t* bytes(const ZipEntry& e) const;

 private:
  const uint8_t* data_;
  uint64_t size_;
  std::string source_;
  std::map<std::string, ZipEntry> entries_;
};

bool looks_like_zip(const uint8_t* data, uint64_t size);
// The zip format's CRC-32 (IEEE 802.3, as zlib's crc32) of n bytes; shared with the writer (core/torch_zip_writer.h).
uint32_t crc32(const uint8_t* p, uint64_t n);

}  // namespace mtinet::torch_detail
