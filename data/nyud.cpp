#include "data/nyud.h"

#include <fstream>

#include "core/file_io.h"
#include "data/image.h"
#include "data/npy.h"

namespace mtinet {

namespace {
const char* task_file(const std::string& task) {
  if (task == "semseg") return "segmentation/%s.png";
  if (task == "depth") return "depth/%s.npy";
  if (task == "normals") return "normals/%s.npy";
  if (task == "edge") return "edge/%s.npy";
  MTINET_FAIL("NYUD has no task '", task, "' (expected semseg, depth, normals or edge)");
}

std::string format_path(const std::string& root, const char* pattern, const std::string& id) {
  std::string p = pattern;
  return root + "/" + p.replace(p.find("%s"), 2, id);
}

// Any numeric map as an {H, W, C} f32 tensor; 2-d arrays get C = 1.
Tensor as_hwc_f32(const Tensor& t, const std::string& path) {
  MTINET_CHECK(t.ndim() == 2 || t.ndim() == 3, "'", path, "' should hold an HxW or HxWxC array, got shape ",
               shape_str(t.shape()));
  Tensor f = t.to(DType::F32);
  return t.ndim() == 2 ? f.reshape_view({t.dim(0), t.dim(1), 1}) : f;
}
}  // namespace

NyudDataset::NyudDataset(std::string root, std::string split, std::vector<std::string> tasks)
    : root_(std::move(root)), split_(std::move(split)), tasks_(std::move(tasks)) {
  std::string list = root_ + "/gt_sets/" + split_ + ".txt";
  std::ifstream f(list);
  MTINET_CHECK(f.good(), "NYUD split file '", list, "' not found (is --data the dataset root?)");
  for (std::string line; std::getline(f, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) ids_.push_back(line);
  }
  MTINET_CHECK(!ids_.empty(), "NYUD split file '", list, "' lists no images");
  for (const std::string& id : ids_) {
    image_path(id);  // throws when neither .jpg nor .png exists
    for (const std::string& t : tasks_) {
      std::string p = format_path(root_, task_file(t), id);
      MTINET_CHECK(file_exists(p), "NYUD: missing ", t, " label '", p, "'");
    }
  }
}

std::string NyudDataset::image_path(const std::string& id) const {
  for (const char* ext : {".jpg", ".png"}) {
    std::string p = root_ + "/images/" + id + ext;
    if (file_exists(p)) return p;
  }
  MTINET_FAIL("NYUD: missing image '", root_, "/images/", id, ".jpg' (or .png)");
}

Sample NyudDataset::load(size_t i) const {
  const std::string& id = ids_.at(i);
  Sample s;
  s.id = id;
  std::string img_path = image_path(id);
  Tensor img = load_image(img_path, 3);
  MTINET_CHECK(img.dtype() == DType::U8, "'", img_path, "' must be an 8-bit image");
  s.fields["image"] = {img.to(DType::F32), Interp::Cubic};
  int64_t h = img.dim(0), w = img.dim(1);
  for (const std::string& t : tasks_) {
    std::string p = format_path(root_, task_file(t), id);
    Tensor m;
    if (t == "semseg") {
      Tensor lab = load_image(p);
      MTINET_CHECK(lab.dtype() == DType::U8 && lab.dim(2) == 1, "'", p, "' must be a single-channel 8-bit PNG");
      m = lab.to(DType::F32);
      float* v = m.data<float>();
      for (int64_t k = 0; k < m.numel(); ++k) v[k] = v[k] == 0 ? 255.0f : v[k] - 1;  // 0 unlabeled -> ignore
    } else {
      m = as_hwc_f32(load_npy(p), p);
    }
    MTINET_CHECK(m.dim(0) == h && m.dim(1) == w, "'", p, "' is ", m.dim(0), "x", m.dim(1), " but its image '",
                 img_path, "' is ", h, "x", w);
    int64_t want_c = t == "normals" ? 3 : 1;
    MTINET_CHECK(m.dim(2) == want_c, "'", p, "' has ", m.dim(2), " channels, expected ", want_c);
    s.fields[t] = {m, t == "normals" ? Interp::Cubic : Interp::Nearest};
  }
  return s;
}

}  // namespace mtinet
