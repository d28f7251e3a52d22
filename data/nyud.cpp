#include "data/nyud.h"


#include "core/file_io.h"
#include "data/dataset_files.h"
#include "data/image.h"
#include "data/label_checks.h"
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
Tensor as_hwc_f32(const Tensor& t) {
  Tensor f = t.to(DType::F32);
  return t.ndim() == 2 ? f.reshape_view({t.dim(0), t.dim(1), 1}) : f;
}

// A .npy label (depth, normals, edge), checked as stored: its element type and values are tested before the
// conversion to f32, so a message shows what the file holds (float64 1e39 would otherwise print as inf).
Tensor read_npy_label(const std::string& task, const LabelSource& src) {
  std::vector<uint8_t> bytes = read_file_bytes(src.path);
  Tensor raw = parse_npy(bytes.data(), bytes.size(), src.path);
  check_npy_label_dtype(task, stored_npy_header(bytes.data(), bytes.size(), src.path), src);
  MTINET_CHECK(raw.ndim() == 2 || raw.ndim() == 3, "'", src.path, "' should hold an HxW or HxWxC array, got shape ",
               shape_str(raw.shape()));
  check_npy_label_values(task, raw, src);
  return as_hwc_f32(raw);
}

// The segmentation PNG in training labels: 0 (unlabeled) -> 255 (ignore), k -> k-1, as the reference does. Values
// are checked before that shift, so a message names the value in the file.
Tensor read_semseg_label(int64_t classes, const LabelSource& src) {
  Tensor lab = load_image(src.path);
  MTINET_CHECK(lab.dtype() == DType::U8 && lab.dim(2) == 1, "'", src.path, "' must be a single-channel 8-bit PNG");
  check_nyud_semseg_values(lab, classes, src);
  Tensor m = lab.to(DType::F32);
  float* v = m.data<float>();
  for (int64_t k = 0; k < m.numel(); ++k) v[k] = v[k] == 0 ? 255.0f : v[k] - 1;
  return m;
}
}  // namespace

NyudDataset::NyudDataset(std::string root, std::string split, std::vector<std::string> tasks, int64_t semseg_classes)
    : root_(std::move(root)), split_(std::move(split)), tasks_(std::move(tasks)), classes_(semseg_classes) {
  MTINET_CHECK(classes_ >= 1 && classes_ <= 254, "NYUD: semseg class count ", classes_, " is outside 1..254");
  ids_ = read_split_ids(root_ + "/gt_sets/" + split_ + ".txt", "NYUD", "is --data the dataset root?");
  for (const std::string& id : ids_) {
    image_path(id);  // throws when neither .jpg nor .png exists
    for (const std::string& t : tasks_) {
      std::string p = format_path(root_, task_file(t), id);
      MTINET_CHECK(file_exists(p), "NYUD: missing ", t, " label '", p, "'");
    }
  }
}

std::string NyudDataset::image_path(const std::string& id) const { return find_image(root_ + "/images", id, "NYUD"); }

Sample NyudDataset::load(size_t i) const {
  const std::string& id = ids_.at(i);
  Sample s;
  s.id = id;
  std::string img_path = image_path(id);
  Tensor img = load_sample_image(img_path);
  s.fields["image"] = {img, Interp::Cubic};
  int64_t h = img.dim(0), w = img.dim(1);
  for (const std::string& t : tasks_) {
    LabelSource src{format_path(root_, task_file(t), id), id};
    Tensor m = t == "semseg" ? read_semseg_label(classes_, src) : read_npy_label(t, src);
    check_label_size(m, h, w, img_path, src);
    int64_t want_c = t == "normals" ? 3 : 1;
    MTINET_CHECK(m.dim(2) == want_c, "'", src.path, "' has ", m.dim(2), " channels, expected ", want_c);
    s.fields[t] = {m, t == "normals" ? Interp::Cubic : Interp::Nearest};
  }
  return s;
}

}  // namespace mtinet
