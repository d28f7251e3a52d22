#include "data/png_palette.h"

#include <cstring>
#include <unordered_map>

#include "core/error.h"
#include "data/image.h"

namespace mtinet {

namespace {

constexpr size_t kSignatureBytes = 8;

uint32_t read_u32_be(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | p[2] << 8 | p[3]; }

bool is_png(const uint8_t* data, size_t size) {
  return size >= kSignatureBytes && std::memcmp(data, "\x89PNG\r\n\x1a\n", kSignatureBytes) == 0;
}

// The body of the first chunk of this type, or nullptr; `length` receives its length. Stops at IEND or at a chunk
// that runs past the end of the file.
const uint8_t* find_chunk(const uint8_t* data, size_t size, const char* type, uint32_t& length) {
  for (size_t pos = kSignatureBytes; pos + 8 <= size;) {
    uint32_t len = read_u32_be(data + pos);
    if (len > size - pos - 8) return nullptr;
    if (std::memcmp(data + pos + 4, type, 4) == 0) {
      length = len;
      return data + pos + 8;
    }
    if (std::memcmp(data + pos + 4, "IEND", 4) == 0) return nullptr;
    pos += 12 + size_t(len);
  }
  return nullptr;
}

}  // namespace

bool png_is_indexed(const uint8_t* data, size_t size) {
  if (!is_png(data, size)) return false;
  uint32_t length = 0;
  const uint8_t* ihdr = find_chunk(data, size, "IHDR", length);
  return ihdr != nullptr && length >= 13 && ihdr[9] == 3;
}

Tensor decode_png_indices(const uint8_t* data, size_t size, const std::string& source) {
  MTINET_CHECK(png_is_indexed(data, size), "'", source, "' is not an indexed (palette) PNG");
  uint32_t length = 0;
  const uint8_t* plte = find_chunk(data, size, "PLTE", length);
  MTINET_CHECK(plte != nullptr && length >= 3 && length <= 768 && length % 3 == 0, "'", source,
               "': an indexed PNG without a valid PLTE chunk");
  // Colour (24 bits) -> index; -2 where two entries share the colour.
  std::unordered_map<uint32_t, int> index_of;
  for (uint32_t e = 0; e < length / 3; ++e) {
    uint32_t rgb = uint32_t(plte[3 * e]) << 16 | uint32_t(plte[3 * e + 1]) << 8 | plte[3 * e + 2];
    auto [it, fresh] = index_of.emplace(rgb, int(e));
    if (!fresh) it->second = -2;
  }
  Tensor colours = decode_image(data, size, source, ImageFormat::Png, 3);  // stb expands indices to colours
  MTINET_CHECK(colours.dtype() == DType::U8, "'", source, "': an indexed PNG that decodes to 16 bits");
  int64_t h = colours.dim(0), w = colours.dim(1);
  Tensor out = Tensor::empty({h, w, 1}, DType::U8);
  const uint8_t* c = colours.data<uint8_t>();
  uint8_t* o = out.data<uint8_t>();
  for (int64_t p = 0; p < h * w; ++p) {
    uint32_t rgb = uint32_t(c[3 * p]) << 16 | uint32_t(c[3 * p + 1]) << 8 | c[3 * p + 2];
    auto it = index_of.find(rgb);
    int index = it == index_of.end() ? -1 : it->second;
    MTINET_CHECK(index >= 0, "'", source, "': the colour (", int(c[3 * p]), ", ", int(c[3 * p + 1]), ", ",
                 int(c[3 * p + 2]), ") of pixel (row ", p / w, ", col ", p % w, ") stands at ",
                 index == -1 ? "no entry" : "several entries", " of its palette, so its index is unknown");
    o[p] = uint8_t(index);
  }
  return out;
}

}  // namespace mtinet
