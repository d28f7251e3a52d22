#include "data/pascal.h"

#include <algorithm>

#include "core/file_io.h"
#include "data/dataset_files.h"
#include "data/image.h"
#include "data/label_checks.h"
#include "data/mat.h"
#include "data/pascal_edges.h"
#include "data/pascal_normals.h"
#include "data/pascal_parts.h"
#include "data/png_palette.h"

namespace mtinet {

namespace {

std::string where(const LabelSource& src) { return "PASCAL sample '" + src.id + "': '" + src.path + "'"; }

// A single-channel 8-bit PNG, as the reference's np.array(Image.open(...)) sees it: grey values, or the indices of
// an indexed (palette) PNG.
Tensor read_gray_png(const LabelSource& src, const char* what) {
  std::vector<uint8_t> bytes = read_file_bytes(src.path);
  if (png_is_indexed(bytes.data(), bytes.size())) return decode_png_indices(bytes.data(), bytes.size(), src.path);
  Tensor t = decode_image(bytes.data(), bytes.size(), src.path, image_format_from_name(src.path));
  MTINET_CHECK(t.dtype() == DType::U8 && t.dim(2) == 1, where(src), " must be a single-channel 8-bit PNG (",
               what, "), got ", t.dim(2), " channel(s)", t.dtype() == DType::U8 ? "" : " of 16 bits");
  return t;
}

// The reference's _get_semseg_fname: semseg/VOC12/<id>.png when it exists, else semseg/pascal-context/<id>.png.
std::string semseg_path(const std::string& root, const std::string& id) {
  std::string voc = root + "/semseg/VOC12/" + id + ".png";
  return file_exists(voc) ? voc : root + "/semseg/pascal-context/" + id + ".png";
}

std::string label_path(const std::string& root, const std::string& task, const std::string& id) {
  if (task == "semseg") return semseg_path(root, id);
  if (task == "human_parts") return root + "/human_parts/" + id + ".mat";
  if (task == "sal") return root + "/sal_distill/" + id + ".png";
  if (task == "normals") return root + "/normals_distill/" + id + ".png";
  if (task == "edge") return root + "/pascal-context/trainval/" + id + ".mat";
  MTINET_FAIL("PASCAL-Context has no task '", task, "' (expected semseg, human_parts, sal, normals or edge)");
}

std::string context_mat_path(const std::string& root, const std::string& id) { return label_path(root, "edge", id); }

Tensor read_semseg(const LabelSource& src) {
  Tensor raw = read_gray_png(src, "class ids 0..20, 255 = ignore");
  const uint8_t* v = raw.data<uint8_t>();
  for (int64_t k = 0; k < raw.numel(); ++k) {
    if (v[k] < PascalDataset::kSemsegClasses || v[k] == 255) continue;
    int64_t w = raw.dim(1);
    MTINET_FAIL(where(src), " has label value ", int(v[k]), " at pixel (row ", k / w, ", col ", k % w,
                "); PASCAL-Context semseg PNGs store 0..20 (background and the 20 VOC classes) or 255 (ignored)");
  }
  return raw.to(DType::F32);
}

Tensor read_saliency(const LabelSource& src) {
  Tensor raw = read_gray_png(src, "saliency 0..255, thresholded at 0.5");
  Tensor out = Tensor::empty(raw.shape(), DType::F32);
  const uint8_t* v = raw.data<uint8_t>();
  float* o = out.data<float>();
  // The reference: (png / 255 > 0.5) in float32; 127 / 255 < 0.5 < 128 / 255, so the threshold is 128.
  for (int64_t k = 0; k < raw.numel(); ++k) o[k] = float(v[k]) / 255.0f > 0.5f ? 1.0f : 0.0f;
  return out;
}

}  // namespace

PascalDataset::PascalDataset(std::string root, std::string split, std::vector<std::string> tasks)
    : root_(std::move(root)), split_(std::move(split)), tasks_(std::move(tasks)) {
  ids_ = read_split_ids(root_ + "/ImageSets/Context/" + split_ + ".txt", "PASCAL", "is --data the PASCAL_MT root?");
  bool needs_context = std::count(tasks_.begin(), tasks_.end(), "normals") > 0;
  for (const std::string& id : ids_) {
    image_path(id);  // throws when neither .jpg nor .png exists
    for (const std::string& t : tasks_) {
      std::string p = label_path(root_, t, id);
      MTINET_CHECK(file_exists(p), "PASCAL: missing ", t, " label '", p, "'");
    }
    if (needs_context) {
      std::string p = context_mat_path(root_, id);
      MTINET_CHECK(file_exists(p), "PASCAL: missing '", p, "' (normals are kept per class of its LabelMap)");
    }
  }
}

std::string PascalDataset::image_path(const std::string& id) const {
  return find_image(root_ + "/JPEGImages", id, "PASCAL");
}

Sample PascalDataset::load(size_t i) const {
  const std::string& id = ids_.at(i);
  Sample s;
  s.id = id;
  std::string img_path = image_path(id);
  Tensor img = load_sample_image(img_path);
  s.fields["image"] = {img, Interp::Cubic};
  int64_t h = img.dim(0), w = img.dim(1);
  // The context .mat file serves both edges and normals: read once.
  bool wants_context = std::any_of(tasks_.begin(), tasks_.end(),
                                   [](const std::string& t) { return t == "edge" || t == "normals"; });
  LabelSource context_src{context_mat_path(root_, id), id, "PASCAL"};
  MatFile context = wants_context ? read_mat(context_src.path) : MatFile{};
  for (const std::string& t : tasks_) {
    LabelSource src{label_path(root_, t, id), id, "PASCAL"};
    Tensor m;
    if (t == "semseg") {
      m = read_semseg(src);
    } else if (t == "sal") {
      m = read_saliency(src);
    } else if (t == "human_parts") {
      m = human_parts_label(read_mat(src.path), h, w, src);
    } else if (t == "edge") {
      m = edge_label(context, src);
    } else {  // normals
      int64_t lh = 0, lw = 0;
      std::vector<double> labels = read_label_map(context, context_src, lh, lw);
      Tensor png = load_image(src.path, 3);
      MTINET_CHECK(lh == png.dim(0) && lw == png.dim(1), where(src), " is ", png.dim(0), "x", png.dim(1), " but '",
                   context_src.path, "' holds a ", lh, "x", lw, " LabelMap");
      m = normals_label(png, labels, src);
    }
    check_label_size(m, h, w, img_path, src);
    s.fields[t] = {m, t == "normals" ? Interp::Cubic : Interp::Nearest};
  }
  return s;
}

AugmentConfig pascal_augment_config() {
  AugmentConfig a;
  a.flip = true;
  a.scale_rotate = true;
  a.scale_range = {0.75, 1.25};
  a.rotation_range = {-20.0, 20.0};
  a.out_h = 512;
  a.out_w = 512;
  return a;
}

}  // namespace mtinet
