// Tests' writer of indexed (palette) PNGs, which stb_image_write cannot produce: signature, IHDR (colour type 3,
// 8 bits), PLTE, one zlib-compressed IDAT of unfiltered rows, IEND, each chunk with its CRC.
#pragma once
#include <zlib.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace mtinet::test {

inline void put_chunk(std::vector<uint8_t>& out, const char* type, const std::vector<uint8_t>& body) {
  auto be32 = [&](uint32_t v) {
    for (int k = 3; k >= 0; --k) out.push_back(uint8_t(v >> (8 * k)));
  };
  be32(uint32_t(body.size()));
  size_t start = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), body.begin(), body.end());
  be32(uint32_t(crc32(0, out.data() + start, uInt(out.size() - start))));
}

// indices: h*w row-major palette indices; palette: the colours of entries 0, 1, ...
inline std::vector<uint8_t> indexed_png(int h, int w, const std::vector<uint8_t>& indices,
                                        const std::vector<std::array<uint8_t, 3>>& palette) {
  std::vector<uint8_t> out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  std::vector<uint8_t> ihdr = {uint8_t(w >> 24), uint8_t(w >> 16), uint8_t(w >> 8), uint8_t(w),
                               uint8_t(h >> 24), uint8_t(h >> 16), uint8_t(h >> 8), uint8_t(h),
                               8, 3, 0, 0, 0};
  put_chunk(out, "IHDR", ihdr);
  std::vector<uint8_t> plte;
  for (const auto& c : palette) plte.insert(plte.end(), c.begin(), c.end());
  put_chunk(out, "PLTE", plte);
  std::vector<uint8_t> raw;
  for (int r = 0; r < h; ++r) {
    raw.push_back(0);  // filter type None
    raw.insert(raw.end(), indices.begin() + r * w, indices.begin() + (r + 1) * w);
  }
  uLongf n = compressBound(uLong(raw.size()));
  std::vector<uint8_t> z(n);
  compress(z.data(), &n, raw.data(), uLong(raw.size()));
  z.resize(n);
  put_chunk(out, "IDAT", z);
  put_chunk(out, "IEND", {});
  return out;
}

}  // namespace mtinet::test
