#include "data/label_checks.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/error.h"

namespace mtinet {

namespace {

// Every message starts the same way, so a user can grep the log for the sample and open the file.
std::string where(const LabelSource& src) { return src.dataset + " sample '" + src.id + "': '" + src.path + "'"; }

// (row, col) of element k of an {H, W} or {H, W, C} map, plus the channel where there are several.
std::string pixel_of(const Tensor& t, int64_t k) {
  int64_t c = t.ndim() == 3 ? t.dim(2) : 1;
  int64_t pixel = k / c, w = t.dim(1);
  std::string s = "pixel (row " + std::to_string(pixel / w) + ", col " + std::to_string(pixel % w) + ")";
  return c > 1 ? s + ", channel " + std::to_string(k % c) : s;
}

// NumPy's name of a stored element type, as a user would see it in numpy (`arr.dtype`).
std::string numpy_name(const NpyHeader& h) {
  std::string bits = std::to_string(8 * h.item_size);
  switch (h.kind) {
    case 'f': return "float" + bits;
    case 'i': return "int" + bits;
    case 'u': return "uint" + bits;
    case 'b': return "bool";
    default: return std::string(1, h.kind) + std::to_string(h.item_size);
  }
}

// A stored value in the shortest text that reads back as the same value (a float32 depth of -1e-7 is not "-0",
// and float64 1e39 is not "9.9999999999999994e+38").
template <class T>
std::string value_str(T v) {
  char buf[64];
  std::to_chars_result r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// First element of a float map that breaks its task's rule, or -1. Float64 values must also fit float32: the
// reader converts to float32, where 1e39 would become inf.
template <class T>
int64_t first_bad(const T* v, int64_t n, bool non_negative) {
  constexpr double kMax = std::numeric_limits<float>::max();
  for (int64_t k = 0; k < n; ++k) {
    double x = double(v[k]);
    if (!(std::fabs(x) <= kMax) || (non_negative && x < 0)) return k;  // NaN fails the comparison too
  }
  return -1;
}

template <class T>
void check_float_values(const std::string& task, const Tensor& raw, const LabelSource& src) {
  bool depth = task == "depth";
  int64_t k = first_bad(raw.data<T>(), raw.numel(), depth);
  if (k < 0) return;
  T v = raw.data<T>()[k];
  const char* rule = depth ? "depth must be finite and >= 0 metres (0 marks a pixel without a measurement)"
                           : task == "normals" ? "normals must be finite" : "edge values must be finite";
  std::string what = std::isfinite(double(v)) && std::fabs(double(v)) > std::numeric_limits<float>::max()
                         ? " (too large for float32)"
                         : "";
  MTINET_FAIL(where(src), " has ", task, " value ", value_str(v), what, " at ", pixel_of(raw, k), "; ", rule);
}

}  // namespace

void check_nyud_semseg_values(const Tensor& raw, int64_t classes, const LabelSource& src) {
  MTINET_CHECK(raw.dtype() == DType::U8, where(src), " must be a single-channel 8-bit PNG");
  const uint8_t* v = raw.data<uint8_t>();
  for (int64_t k = 0; k < raw.numel(); ++k) {
    // Checked as stored, before the shift k -> k-1: a message about the shifted value (the loss reported file
    // value 200 as "label 199") names a value that is nowhere in the file.
    if (v[k] <= classes) continue;
    MTINET_FAIL(where(src), " has label value ", int(v[k]), " at ", pixel_of(raw, k),
                "; NYUD segmentation PNGs store 0 (unlabeled, ignored) or 1..", classes, " (classes 0..",
                classes - 1, ")", v[k] == 255 ? ": 255 is not the ignore value in the file, 0 is" : "");
  }
}

void check_npy_label_dtype(const std::string& task, const NpyHeader& stored, const LabelSource& src) {
  // Depth and normals are measurements; an integer type means another unit (depth in mm) or another content.
  // Edges are a binary map, which any numeric type (float, bool, integer) holds exactly.
  if (stored.kind == 'f' || task == "edge") return;
  std::string descr = std::string(1, stored.endian) + stored.kind + std::to_string(stored.item_size);
  const char* expected = task == "depth" ? "float32 or float64 (depth in metres; integer depth is often "
                                           "millimetres: convert it, e.g. (d / 1000).astype(np.float32))"
                                         : "float32 or float64";
  MTINET_FAIL(where(src), " stores ", task, " as ", numpy_name(stored), " ('", descr, "'); expected ", expected);
}

void check_npy_label_values(const std::string& task, const Tensor& raw, const LabelSource& src) {
  // Integer types (allowed for edges only) are finite by construction.
  if (raw.dtype() == DType::F32) check_float_values<float>(task, raw, src);
  if (raw.dtype() == DType::F64) check_float_values<double>(task, raw, src);
}

NpyHeader stored_npy_header(const uint8_t* data, size_t size, const std::string& source) {
  // parse_npy has validated the magic, the version and that the header fits; re-check cheaply all the same.
  MTINET_CHECK(size >= 10 && data[6] >= 1 && data[6] <= 3, "'", source, "' is not a .npy file");
  size_t len_bytes = data[6] == 1 ? 2 : 4, header_len = 0;
  for (size_t i = 0; i < len_bytes; ++i) header_len |= size_t(data[8 + i]) << (8 * i);
  MTINET_CHECK(8 + len_bytes + header_len <= size, "'", source, "': truncated .npy header");
  return parse_npy_header(std::string(reinterpret_cast<const char*>(data) + 8 + len_bytes, header_len), source);
}

void check_label_size(const Tensor& hwc, int64_t image_h, int64_t image_w, const std::string& image_path,
                      const LabelSource& src) {
  MTINET_CHECK(hwc.dim(0) == image_h && hwc.dim(1) == image_w, where(src), " is ", hwc.dim(0), "x", hwc.dim(1),
               " but its image '", image_path, "' is ", image_h, "x", image_w,
               " (every label must have the image's height and width)");
}

}  // namespace mtinet
