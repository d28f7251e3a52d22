#include "data/colormap.h"

#include <algorithm>
#include <cmath>

namespace mtinet {

namespace {
int64_t pixels_of(const Tensor& t, int64_t channels, const char* what) {
  bool ok = t.ndim() == 2 || (t.ndim() == 3 && t.dim(2) == channels);
  MTINET_CHECK(ok && (t.ndim() == 3 || channels == 1), what, ": unexpected shape ", t.describe());
  return t.dim(0) * t.dim(1);
}

uint8_t to_byte(double v) { return uint8_t(std::clamp(std::lround(v * 255.0), 0L, 255L)); }

// The PASCAL VOC palette: bits of the label spread over the high bits of R, G and B.
void voc_colour(int64_t label, uint8_t rgb[3]) {
  rgb[0] = rgb[1] = rgb[2] = 0;
  int64_t c = label;
  for (int shift = 7; shift >= 0 && c; --shift, c >>= 3) {
    rgb[0] |= uint8_t(((c >> 0) & 1) << shift);
    rgb[1] |= uint8_t(((c >> 1) & 1) << shift);
    rgb[2] |= uint8_t(((c >> 2) & 1) << shift);
  }
}

// A compact viridis-like ramp: dark purple -> teal -> yellow.
void ramp(double t, uint8_t rgb[3]) {
  static const double stops[5][3] = {
      {0.267, 0.005, 0.329}, {0.229, 0.322, 0.546}, {0.128, 0.567, 0.551}, {0.369, 0.789, 0.383}, {0.993, 0.906, 0.144}};
  t = std::clamp(t, 0.0, 1.0) * 4.0;
  int i = std::min(int(t), 3);
  double f = t - i;
  for (int k = 0; k < 3; ++k) rgb[k] = to_byte(stops[i][k] * (1 - f) + stops[i + 1][k] * f);
}
}  // namespace

Tensor colorize_labels(const Tensor& labels) {
  int64_t n = pixels_of(labels, 1, "colorize_labels");
  std::vector<double> v = labels.to_double_vector();
  Tensor out = Tensor::empty({labels.dim(0), labels.dim(1), 3}, DType::U8);
  uint8_t* o = out.data<uint8_t>();
  for (int64_t i = 0; i < n; ++i) {
    int64_t l = int64_t(v[size_t(i)]);
    if (l == 255) { o[3 * i] = o[3 * i + 1] = o[3 * i + 2] = 255; continue; }
    voc_colour(l, o + 3 * i);
  }
  return out;
}

Tensor colorize_depth(const Tensor& depth, double lo, double hi) {
  int64_t n = pixels_of(depth, 1, "colorize_depth");
  std::vector<double> v = depth.to_double_vector();
  if (!(lo < hi)) {
    lo = INFINITY;
    hi = -INFINITY;
    for (double d : v) if (d > 0) { lo = std::min(lo, d); hi = std::max(hi, d); }
    if (!(lo < hi)) { lo = 0; hi = 1; }
  }
  Tensor out = Tensor::zeros({depth.dim(0), depth.dim(1), 3}, DType::U8);
  uint8_t* o = out.data<uint8_t>();
  for (int64_t i = 0; i < n; ++i)
    if (v[size_t(i)] > 0) ramp(1.0 - (v[size_t(i)] - lo) / (hi - lo), o + 3 * i);  // near = bright
  return out;
}

Tensor colorize_heat(const Tensor& map, double lo, double hi) {
  int64_t n = pixels_of(map, 1, "colorize_heat");
  std::vector<double> v = map.to_double_vector();
  Tensor out = Tensor::empty({map.dim(0), map.dim(1), 3}, DType::U8);
  uint8_t* o = out.data<uint8_t>();
  const double span = hi > lo ? hi - lo : 1.0;
  for (int64_t i = 0; i < n; ++i) ramp(std::clamp((v[size_t(i)] - lo) / span, 0.0, 1.0), o + 3 * i);
  return out;
}

Tensor colorize_normals(const Tensor& normals) {
  int64_t n = pixels_of(normals, 3, "colorize_normals");
  std::vector<double> v = normals.to_double_vector();
  Tensor out = Tensor::empty({normals.dim(0), normals.dim(1), 3}, DType::U8);
  uint8_t* o = out.data<uint8_t>();
  for (int64_t i = 0; i < 3 * n; ++i) o[i] = to_byte((v[size_t(i)] + 1) / 2);
  return out;
}

Tensor grey_map(const Tensor& prob) {
  int64_t n = pixels_of(prob, 1, "grey_map");
  std::vector<double> v = prob.to_double_vector();
  Tensor out = Tensor::empty({prob.dim(0), prob.dim(1), 1}, DType::U8);
  for (int64_t i = 0; i < n; ++i) out.data<uint8_t>()[i] = to_byte(v[size_t(i)]);
  return out;
}

}  // namespace mtinet
