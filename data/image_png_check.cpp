#include "data/image_png_check.h"

#include <stb_image.h>

#include <cstring>
#include <vector>

#include "core/error.h"

namespace mtinet {

namespace {

constexpr size_t kSignatureBytes = 8;
constexpr size_t kInflateCheckAbove = size_t(256) << 10;  // IDAT bytes; 1032 x 256 KiB ~ 264 MB at most

uint32_t read_u32_be(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | p[2] << 8 | p[3]; }

struct Header {
  uint32_t width = 0, height = 0;
  int depth = 0, color = 0;
  bool interlaced = false;
};

// Bytes of filtered scanlines (a filter byte per row) that stb_image expects for a w x h image or interlace pass.
uint64_t filtered_bytes(uint64_t w, uint64_t h, const Header& ih) {
  int samples = ih.color == 3 ? 1 : (ih.color & 2 ? 3 : 1) + (ih.color & 4 ? 1 : 0);  // palette: one index
  return w && h ? ((samples * w * uint64_t(ih.depth) + 7) / 8 + 1) * h : 0;
}

// What the image data must inflate to: the whole image, or its seven Adam7 passes (as stbi__create_png_image).
uint64_t expected_data_bytes(const Header& ih) {
  if (!ih.interlaced) return filtered_bytes(ih.width, ih.height, ih);
  static const int x0[] = {0, 4, 0, 2, 0, 1, 0}, y0[] = {0, 0, 4, 0, 2, 0, 1};
  static const int dx[] = {8, 8, 4, 4, 2, 2, 1}, dy[] = {8, 8, 8, 4, 4, 2, 2};
  uint64_t total = 0;
  for (int p = 0; p < 7; ++p) {
    uint64_t w = ih.width > uint32_t(x0[p]) ? (ih.width - x0[p] + dx[p] - 1) / dx[p] : 0;
    uint64_t h = ih.height > uint32_t(y0[p]) ? (ih.height - y0[p] + dy[p] - 1) / dy[p] : 0;
    total += filtered_bytes(w, h, ih);
  }
  return total;
}

}  // namespace

void check_png_chunks(const uint8_t* data, size_t size, const std::string& source) {
  Header ih;
  bool have_header = false, apple = false;  // apple: Apple's CgBI variant, whose data is raw deflate (no zlib header)
  size_t idat_bytes = 0;
  std::vector<std::pair<size_t, size_t>> idat_chunks;  // offset, length
  for (size_t pos = kSignatureBytes; pos + 8 <= size;) {
    uint32_t length = read_u32_be(data + pos);
    char type[5] = {};
    for (int i = 0; i < 4; ++i) {  // chunk types are ASCII letters; show anything else as '?' in messages
      uint8_t c = data[pos + 4 + i];
      type[i] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ? char(c) : '?';
    }
    MTINET_CHECK(length <= size - pos - 8, "cannot decode image '", source, "': PNG chunk '", type, "' at byte ", pos,
                 " declares ", length, " bytes, more than the file holds (truncated or corrupt)");
    const uint8_t* body = data + pos + 8;
    if (std::strcmp(type, "CgBI") == 0) apple = true;
    if (std::strcmp(type, "IHDR") == 0 && length >= 13 && !have_header) {
      ih = {read_u32_be(body), read_u32_be(body + 4), body[8], body[9], body[12] != 0};
      have_header = true;
    }
    if (std::strcmp(type, "IDAT") == 0) {
      idat_chunks.emplace_back(pos + 8, length);
      idat_bytes += length;
    }
    if (std::strcmp(type, "IEND") == 0) break;  // stb decodes here and reads no further
    pos += 12 + size_t(length);
  }
  // A header stb rejects, or data too small to be a bomb, is left to stb.
  bool plausible = have_header && ih.width > 0 && ih.height > 0 && ih.depth >= 1 && ih.depth <= 16;
  if (!plausible || idat_bytes <= kInflateCheckAbove) return;
  uint64_t expected = expected_data_bytes(ih);
  if (expected > uint64_t(INT32_MAX) / 2) return;  // stb refuses such sizes itself; image.cpp bounds them first
  std::vector<uint8_t> idat;
  idat.reserve(idat_bytes);
  for (const auto& [offset, length] : idat_chunks) idat.insert(idat.end(), data + offset, data + offset + length);
  // stb's inflate into a buffer that cannot grow fails when the data holds more than the buffer. Some encoders leave
  // a little extra data, which stb ignores (stb issue #276), so the buffer has room to spare; a bomb overshoots it
  // many times over.
  uint64_t allowed = expected + expected / 2 + (uint64_t(1) << 20);
  std::vector<char> out(static_cast<size_t>(allowed));
  const char* in = reinterpret_cast<const char*>(idat.data());
  int got = apple ? stbi_zlib_decode_noheader_buffer(out.data(), int(out.size()), in, int(idat.size()))
                  : stbi_zlib_decode_buffer(out.data(), int(out.size()), in, int(idat.size()));
  MTINET_CHECK(got >= 0, "cannot decode image '", source, "': its PNG image data is corrupt or inflates to more than ",
               allowed, " bytes, while a ", ih.width, "x", ih.height, " image needs ", expected,
               " (a decompression bomb?)");
}

}  // namespace mtinet
