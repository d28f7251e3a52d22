#include "data/image.h"

#include <stb_image.h>
#include <stb_image_write.h>

#include <cstring>
#include <memory>
#include <vector>

#include "core/file_io.h"

namespace mtinet {

Tensor load_image(const std::string& path, int channels) {
  MTINET_CHECK(channels >= 0 && channels <= 4, "load_image: bad channel count ", channels, " for '", path, "'");
  std::vector<uint8_t> bytes = read_file_bytes(path);
  MTINET_CHECK(bytes.size() <= size_t(INT32_MAX), "'", path, "' is too large to decode");
  int w = 0, h = 0, c = 0;
  const auto* buf = reinterpret_cast<const stbi_uc*>(bytes.data());
  int len = int(bytes.size());
  bool sixteen = stbi_is_16_bit_from_memory(buf, len);
  if (sixteen) {
    std::unique_ptr<stbi_us, void (*)(void*)> px(stbi_load_16_from_memory(buf, len, &w, &h, &c, channels), stbi_image_free);
    MTINET_CHECK(px != nullptr, "cannot decode image '", path, "': ", stbi_failure_reason());
    int out_c = channels ? channels : c;
    Tensor t = Tensor::empty({h, w, out_c}, DType::I32);
    int32_t* dst = t.data<int32_t>();
    for (int64_t i = 0; i < t.numel(); ++i) dst[i] = px.get()[i];
    return t;
  }
  std::unique_ptr<stbi_uc, void (*)(void*)> px(stbi_load_from_memory(buf, len, &w, &h, &c, channels), stbi_image_free);
  MTINET_CHECK(px != nullptr, "cannot decode image '", path, "': ", stbi_failure_reason());
  int out_c = channels ? channels : c;
  Tensor t = Tensor::empty({h, w, out_c}, DType::U8);
  std::memcpy(t.raw_data(), px.get(), t.nbytes());
  return t;
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
