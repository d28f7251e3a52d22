#include "data/pascal_parts.h"

#include <map>

#include "core/error.h"

namespace mtinet {

int human_part_group(const std::string& name) {
  static const std::map<std::string, int> kGroups = {
      {"hair", 1},  {"head", 1},  {"lear", 1},  {"lebrow", 1}, {"leye", 1},  {"mouth", 1}, {"nose", 1},
      {"rear", 1},  {"rebrow", 1}, {"reye", 1}, {"neck", 2},   {"torso", 2}, {"luarm", 3}, {"ruarm", 3},
      {"lhand", 4}, {"llarm", 4}, {"rhand", 4}, {"rlarm", 4},  {"luleg", 5}, {"ruleg", 5}, {"lfoot", 6},
      {"llleg", 6}, {"rfoot", 6}, {"rlleg", 6}};
  auto it = kGroups.find(name);
  return it == kGroups.end() ? -1 : it->second;
}

namespace {

// A mask as 0/1 bytes, checked to cover the image (the reference's `.astype(bool)`: any non-zero value is in).
std::vector<uint8_t> mask_of(const MatValue& m, int64_t height, int64_t width, const LabelSource& src) {
  MTINET_CHECK(m.is_numeric() && m.shape.size() == 2 && m.shape[0] == height && m.shape[1] == width,
               "PASCAL sample '", src.id, "': '", src.path, "': ", m.path, " is a ", mat_class_name(m.cls), " of ",
               m.shape.size() == 2 ? std::to_string(m.shape[0]) + "x" + std::to_string(m.shape[1]) : "other rank",
               ", expected a ", height, "x", width, " mask (the image's size)");
  std::vector<double> v = m.to_vector<double>();
  std::vector<uint8_t> out(v.size());
  for (size_t k = 0; k < v.size(); ++k) out[k] = v[k] != 0;
  return out;
}

bool is_person(const MatValue& objects, int64_t k) {
  return objects.field(k, "class_ind").scalar() == kPascalPersonClass;
}

}  // namespace

Tensor human_parts_label(const MatFile& file, int64_t height, int64_t width, const LabelSource& src) {
  const MatValue& objects = file.var("anno").field("objects");
  Tensor out = Tensor::zeros({height, width, 1}, DType::F32);
  float* label = out.data<float>();
  bool has_people = false;
  for (int64_t k = 0; k < objects.struct_size(); ++k) {
    if (!is_person(objects, k)) continue;
    std::vector<uint8_t> m = mask_of(objects.field(k, "mask"), height, width, src);
    for (uint8_t x : m) has_people |= x != 0;
  }
  if (!has_people) return out;
  for (int64_t k = 0; k < objects.struct_size(); ++k) {
    if (!is_person(objects, k)) continue;
    const MatValue& parts = objects.field(k, "parts");
    if (parts.numel() == 0) continue;  // a person without part annotations paints nothing
    for (int64_t j = 0; j < parts.struct_size(); ++j) {
      std::string name = parts.field(j, "part_name").str();
      int group = human_part_group(name);
      MTINET_CHECK(group > 0, "PASCAL sample '", src.id, "': '", src.path, "': ", parts.field(j, "part_name").path,
                   " is '", name, "', not a PASCAL-Part person part (hair, head, lear, ..., torso, luarm, ..., "
                   "rfoot)");
      std::vector<uint8_t> m = mask_of(parts.field(j, "mask"), height, width, src);
      for (size_t p = 0; p < m.size(); ++p)
        if (m[p]) label[p] = float(group);
    }
  }
  return out;
}

void ignore_samples_without_parts(Sample& s) {
  auto it = s.fields.find("human_parts");
  if (it == s.fields.end()) return;
  Tensor& m = it->second.map;
  float* v = m.data<float>();
  for (int64_t k = 0; k < m.numel(); ++k)
    if (v[k] != 0) return;
  for (int64_t k = 0; k < m.numel(); ++k) v[k] = 255.0f;
}

}  // namespace mtinet
