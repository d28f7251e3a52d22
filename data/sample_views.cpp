#include "data/sample_views.h"

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "core/safetensors.h"
#include "data/colormap.h"
#include "data/image.h"

namespace mtinet {

namespace {

// {H, W, C} f32 -> {1, C, H, W} f32 (the PyTorch layout users compare against).
Tensor to_nchw(const Tensor& map) {
  int64_t h = map.dim(0), w = map.dim(1), c = map.dim(2);
  Tensor out = Tensor::empty({1, c, h, w}, DType::F32);
  const float* src = map.data<float>();
  float* dst = out.data<float>();
  for (int64_t k = 0; k < c; ++k)
    for (int64_t i = 0; i < h * w; ++i) dst[k * h * w + i] = src[i * c + k];
  return out;
}

}  // namespace

Tensor sample_field_view(const std::string& name, const Tensor& field) {
  MTINET_CHECK(field.ndim() == 3, "view of '", name, "': expected an {H, W, C} map, got ", field.describe());
  Tensor map = field.to(Device::CPU).to(DType::F32);
  if (name == "image") {
    Tensor out = Tensor::empty(map.shape(), DType::U8);
    const float* v = map.data<float>();
    uint8_t* o = out.data<uint8_t>();
    for (int64_t i = 0; i < map.numel(); ++i) o[i] = uint8_t(std::clamp(v[i] + 0.5f, 0.0f, 255.0f));
    return out;
  }
  if (name == "semseg" || name == "human_parts") return colorize_labels(map);
  if (name == "normals") return colorize_normals(map);
  if (name == "depth") return colorize_depth(map);
  if (name == "edge" || name == "sal") return grey_map(map);  // 0/1 maps
  MTINET_FAIL("view of '", name, "': unknown field");
}

std::vector<std::string> write_sample_views(const Sample& s, const std::string& out_path,
                                            const std::map<std::string, std::string>& metadata) {
  namespace fs = std::filesystem;
  MTINET_CHECK(!s.fields.empty(), "sample '", s.id, "' has no fields to write");
  fs::path out(out_path);
  if (!out.parent_path().empty()) fs::create_directories(out.parent_path());
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const auto& [name, f] : s.fields) {
    MTINET_CHECK(f.map.ndim() == 3 && f.map.dtype() == DType::F32, "sample '", s.id, "': field '", name,
                 "' should be an {H, W, C} f32 map, got ", f.map.describe());
    tensors.emplace_back(name, to_nchw(f.map));
  }
  std::map<std::string, std::string> meta = metadata;
  meta["id"] = s.id;
  save_safetensors(out_path, tensors, meta);
  std::vector<std::string> written{out_path};
  for (const auto& [name, f] : s.fields) {
    std::string png = (out.parent_path() / (out.stem().string() + "_" + name + ".png")).string();
    save_png(png, sample_field_view(name, f.map));
    written.push_back(png);
  }
  return written;
}

}  // namespace mtinet
