// Writing the zip archives torch.save() writes (torch >= 1.6): every entry stored uncompressed, its CRC-32 in the
// headers, and its data starting on a 64-byte boundary, as torch's writer pads the local header's extra field so a
// reader can memory-map storages in place. No zip64: an archive that would pass 4 GiB is refused (mtinet's largest
// model is a few hundred MB). Internal to core/torch_write.cpp.
#pragma once
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace mtinet::torch_detail {

class ZipStoreWriter {
 public:
  // `target` names the file being written in messages.
  ZipStoreWriter(std::ostream& out, std::string target);
  // Writes one entry: local header, padding, the bytes.
  void add(const std::string& name, const void* data, uint64_t size);
  // Writes the central directory and the end record; no entry may be added afterwards.
  void finish();

  static constexpr uint64_t kAlignment = 64;  // torch's kFieldAlignment

 private:
  struct Written {
    std::string name;
    uint32_t crc32;
    uint64_t size, header_offset;
  };
  void put(const void* data, uint64_t n);
  void put_u16(uint64_t v);
  void put_u32(uint64_t v);
  void check_fits(uint64_t value, const std::string& what) const;

  std::ostream& out_;
  std::string target_;
  uint64_t pos_ = 0;  // bytes written so far: the next header's offset
  std::vector<Written> written_;
  bool finished_ = false;
};

}  // namespace mtinet::torch_detail
