#include "data/image.h"

#include <stb_image.h>
#include <stb_image_write.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstring>
#include <memory>
#include <vector>

#include "core/file_io.h"
#include "data/image_jpeg_check.h"
#include "data/image_png_check.h"

namespace mtinet {

namespace {

bool starts_with(const uint8_t* data, size_t size, const char* magic, size_t n) {
  return size >= n && std::memcmp(data, magic, n) == 0;
}

bool is_png(const uint8_t* data, size_t size) { return starts_with(data, size, "\x89PNG\r\n\x1a\n", 8); }
// SOI then the first marker's 0xFF: stb's JPEG decoder needs no more to claim the file.
bool is_jpeg(const uint8_t* data, size_t size) { return starts_with(data, size, "\xFF\xD8\xFF", 3); }

// What the bytes look like, for messages: the formats stb would otherwise have decoded, by their magic bytes.
std::string sniff_format(const uint8_t* data, size_t size) {
  if (size == 0) return "nothing (the file is empty)";
  if (is_png(data, size)) return "PNG data";
  if (is_jpeg(data, size)) return "JPEG data";
  if (starts_with(data, size, "GIF8", 4)) return "GIF data";
  if (starts_with(data, size, "BM", 2)) return "BMP data";
  if (starts_with(data, size, "8BPS", 4)) return "PSD data";
  if (starts_with(data, size, "#?RADIANCE", 10) || starts_with(data, size, "#?RGBE", 6)) return "HDR data";
  if (starts_with(data, size, "\x53\x80\xF6\x34", 4)) return "PIC data";
  if (size >= 2 && data[0] == 'P' && data[1] >= '1' && data[1] <= '7') return "PNM data";
  return "data of no PNG or JPEG signature";
}

// Throws unless the bytes are in the expected format, before stb sees them: stb picks the decoder from the content.
void check_format(const uint8_t* data, size_t size, const std::string& source, ImageFormat expected) {
  bool png = is_png(data, size), jpeg = is_jpeg(data, size);
  switch (expected) {
    case ImageFormat::Png:
      MTINET_CHECK(png, "image '", source, "' should be PNG (its name ends in .png) but holds ",
                   sniff_format(data, size));
      break;
    case ImageFormat::Jpeg:
      MTINET_CHECK(jpeg, "image '", source, "' should be JPEG (its name ends in .jpg or .jpeg) but holds ",
                   sniff_format(data, size));
      break;
    case ImageFormat::PngOrJpeg:
      MTINET_CHECK(png || jpeg, "image '", source, "' should be PNG or JPEG but holds ", sniff_format(data, size));
      break;
  }
}

// Reads the dimensions from the header and throws when they exceed the limits in image.h.
void check_dimensions(const stbi_uc* buf, int len, const std::string& source) {
  int w = 0, h = 0, c = 0;
  MTINET_CHECK(stbi_info_from_memory(buf, len, &w, &h, &c) != 0, "cannot decode image '", source, "': ",
               stbi_failure_reason());
  MTINET_CHECK(w <= kMaxImageSide && h <= kMaxImageSide && int64_t(w) * h <= kMaxImagePixels, "image '", source,
               "' is ", w, "x", h, " pixels, larger than mtinet decodes (at most ", kMaxImageSide, " per side and ",
               kMaxImagePixels, " pixels): a corrupt header or a decompression bomb?");
}

}  // namespace

ImageFormat image_format_from_name(const std::string& path) {
  size_t dot = path.find_last_of("./");
  if (dot == std::string::npos || path[dot] != '.') return ImageFormat::PngOrJpeg;
  std::string ext = path.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return char(std::tolower(ch)); });
  if (ext == "png") return ImageFormat::Png;
  if (ext == "jpg" || ext == "jpeg") return ImageFormat::Jpeg;
  return ImageFormat::PngOrJpeg;
}

Tensor decode_image(const uint8_t* data, size_t size, const std::string& source, ImageFormat expected, int channels) {
  MTINET_CHECK(channels >= 0 && channels <= 4, "load_image: bad channel count ", channels, " for '", source, "'");
  MTINET_CHECK(size <= size_t(INT_MAX), "'", source, "' is too large to decode");
  check_format(data, size, source, expected);
  if (is_jpeg(data, size)) check_jpeg_huffman_tables(data, size, source);  // before stb parses any table
  const auto* buf = reinterpret_cast<const stbi_uc*>(data);
  int len = int(size);
  check_dimensions(buf, len, source);  // reads only the headers
  if (is_png(data, size)) check_png_chunks(data, size, source);  // after: it inflates for the declared dimensions
  int w = 0, h = 0, c = 0;
  if (stbi_is_16_bit_from_memory(buf, len)) {
    std::unique_ptr<stbi_us, void (*)(void*)> px(stbi_load_16_from_memory(buf, len, &w, &h, &c, channels),
                                                 stbi_image_free);
    MTINET_CHECK(px != nullptr, "cannot decode image '", source, "': ", stbi_failure_reason());
    Tensor t = Tensor::empty({h, w, channels ? channels : c}, DType::I32);
    int32_t* dst = t.data<int32_t>();
    for (int64_t i = 0; i < t.numel(); ++i) dst[i] = px.get()[i];
    return t;
  }
  std::unique_ptr<stbi_uc, void (*)(void*)> px(stbi_load_from_memory(buf, len, &w, &h, &c, channels),
                                               stbi_image_free);
  MTINET_CHECK(px != nullptr, "cannot decode image '", source, "': ", stbi_failure_reason());
  Tensor t = Tensor::empty({h, w, channels ? channels : c}, DType::U8);
  std::memcpy(t.raw_data(), px.get(), t.nbytes());
  return t;
}

Tensor load_image(const std::string& path, int channels) {
  std::vector<uint8_t> bytes = read_file_bytes(path);
  return decode_image(bytes.data(), bytes.size(), path, image_format_from_name(path), channels);
}

void save_png(const std::string& path, const Tensor& image) {
  Tensor img = image.to(Device::CPU);
  MTINET_CHECK(img.dtype() == DType::U8 && img.ndim() == 3 && img.dim(2) >= 1 && img.dim(2) <= 4,
               "save_png: '", path, "' needs an {H, W, 1..4} u8 tensor, got ", image.describe());
  int h = int(img.dim(0)), w = int(img.dim(1)), c = int(img.dim(2));
  std::vector<uint8_t> png;
  auto append = [](void* ctx, void* data, int size) {
    auto* out = static_cast<std::vector<uint8_t>*>(ctx);
    out->insert(out->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
  };
  int ok = stbi_write_png_to_func(append, &png, w, h, c, img.raw_data(), w * c);
  MTINET_CHECK(ok != 0, "PNG encoding failed for '", path, "'");
  write_file_atomic(path, png.data(), png.size());
}

}  // namespace mtinet
