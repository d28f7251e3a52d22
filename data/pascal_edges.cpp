#include "data/pascal_edges.h"

#include <cmath>

#include "core/error.h"
#include "eval/edge_thinning.h"

namespace mtinet {

std::vector<uint8_t> laplacian_boundaries(const std::vector<double>& v, int64_t h, int64_t w) {
  MTINET_CHECK(h > 0 && w > 0 && int64_t(v.size()) == h * w, "laplacian_boundaries: ", v.size(), " values for ", h,
               "x", w);
  // BORDER_REFLECT_101: index -1 -> 1 and n -> n-2; a single row or column reflects onto itself.
  auto reflect = [](int64_t i, int64_t n) {
    if (n == 1) return int64_t(0);
    return i < 0 ? -i : (i >= n ? 2 * n - 2 - i : i);
  };
  std::vector<uint8_t> out(v.size(), 0);
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      double c = v[size_t(y * w + x)];
      double lap = v[size_t(reflect(y - 1, h) * w + x)] + v[size_t(reflect(y + 1, h) * w + x)] +
                   v[size_t(y * w + reflect(x - 1, w))] + v[size_t(y * w + reflect(x + 1, w))] - 4 * c;
      out[size_t(y * w + x)] = lap != 0;
    }
  return out;
}

std::vector<double> read_label_map(const MatFile& file, const LabelSource& src, int64_t& h, int64_t& w) {
  const MatValue& lm = file.var("LabelMap");
  MTINET_CHECK(lm.is_numeric() && lm.shape.size() == 2 && lm.numel() > 0, "PASCAL sample '", src.id, "': '",
               src.path, "': LabelMap is a ", mat_class_name(lm.cls), " of ", lm.shape.size(),
               " dimensions, expected a non-empty 2-d numeric array");
  std::vector<double> v = lm.to_vector<double>();
  for (size_t k = 0; k < v.size(); ++k)
    MTINET_CHECK(std::isfinite(v[k]), "PASCAL sample '", src.id, "': '", src.path, "': LabelMap value ", v[k],
                 " at pixel (row ", k / size_t(lm.shape[1]), ", col ", k % size_t(lm.shape[1]), ")");
  h = lm.shape[0];
  w = lm.shape[1];
  return v;
}

Tensor edge_label(const MatFile& file, const LabelSource& src) {
  int64_t h = 0, w = 0;
  std::vector<double> labels = read_label_map(file, src, h, w);
  std::vector<uint8_t> edge = laplacian_boundaries(labels, h, w);
  thin_edges(edge, h, w);
  Tensor out = Tensor::empty({h, w, 1}, DType::F32);
  float* o = out.data<float>();
  for (size_t k = 0; k < edge.size(); ++k) o[k] = float(edge[k]);
  return out;
}

}  // namespace mtinet
