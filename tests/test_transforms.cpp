// Augmentations on small hand-made maps, with expected values worked out by hand.
#include "data/transforms.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::test;

namespace {
Tensor map_of(int64_t h, int64_t w, int64_t c, const std::vector<float>& v) {
  return Tensor::from_vector<float>({h, w, c}, v);
}
std::vector<double> values(const Tensor& t) { return t.to_double_vector(); }
}  // namespace

TEST_CASE("horizontal flip mirrors every map and negates normals' x") {
  Sample s;
  s.fields["semseg"] = {map_of(1, 3, 1, {1, 2, 3}), Interp::Nearest};
  s.fields["normals"] = {map_of(1, 2, 3, {0.6f, 0, 0.8f, -1, 0, 0}), Interp::Cubic};
  flip_horizontal(s);
  CHECK(values(s.fields["semseg"].map) == std::vector<double>{3, 2, 1});
  CHECK(values(s.fields["normals"].map) == std::vector<double>{1, 0, 0, -0.6f, 0, 0.8f});
}

TEST_CASE("nearest resize replicates labels, cubic resize keeps constants and matches the kernel on ramps") {
  Tensor lab = map_of(2, 2, 1, {1, 2, 3, 4});
  CHECK(values(resize_map(lab, 4, 4, Interp::Nearest)) ==
        std::vector<double>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
  Tensor flat = Tensor::full({3, 5, 2}, 7.0, DType::F32);
  for (double v : values(resize_map(flat, 7, 4, Interp::Cubic))) CHECK(v == doctest::Approx(7.0));
  // Ramp f(x) = x along 8 columns, resized to 16: output x samples src = (x + 0.5)/2 - 0.5 = x0 + t, t in {.25, .75}.
  // With OpenCV's a = -0.75 the kernel is not exact on ramps: by hand, t = 0.25 gives weights (-0.10546875,
  // 0.87890625, 0.26171875, -0.03515625) on x0-1..x0+2, i.e. x0 + 0.296875; t = 0.75 mirrors to x0 + 0.703125.
  std::vector<float> ramp;
  for (int y = 0; y < 2; ++y) for (int x = 0; x < 8; ++x) ramp.push_back(float(x));
  std::vector<double> up = values(resize_map(map_of(2, 8, 1, ramp), 2, 16, Interp::Cubic));
  for (int x = 4; x < 12; ++x) {
    double src = (x + 0.5) / 2 - 0.5, x0 = std::floor(src);
    CHECK(up[size_t(x)] == doctest::Approx(x0 + (src - x0 == 0.25 ? 0.296875 : 0.703125)).epsilon(1e-6));
  }
}

TEST_CASE("zoom about the centre by 2 with nearest sampling, depth divided by the scale") {
  // 4x4 map, value = 10*y + x. Centre (2, 2); output (x, y) samples src = ((x, y) - 2) / 2 + 2, rounded half up.
  std::vector<float> v;
  for (int y = 0; y < 4; ++y) for (int x = 0; x < 4; ++x) v.push_back(float(10 * y + x));
  Sample s;
  s.fields["semseg"] = {map_of(4, 4, 1, v), Interp::Nearest};
  s.fields["depth"] = {map_of(4, 4, 1, v), Interp::Nearest};
  scale_rotate(s, 2.0, 0.0);
  // columns: x=0 -> 1.0 -> 1; x=1 -> 1.5 -> 2; x=2 -> 2; x=3 -> 2.5 -> 3. Same for rows.
  std::vector<double> expect = {11, 12, 12, 13, 21, 22, 22, 23, 21, 22, 22, 23, 31, 32, 32, 33};
  CHECK(values(s.fields["semseg"].map) == expect);
  std::vector<double> depth = values(s.fields["depth"].map);
  for (size_t i = 0; i < expect.size(); ++i) CHECK(depth[i] == doctest::Approx(expect[i] / 2));
}

TEST_CASE("rotation by 90 degrees about the centre, zero outside the source") {
  // OpenCV's getRotationMatrix2D(c, 90, 1) maps src to dst = (sy + cx - cy, -sx + cx + cy) = (sy, 3 - sx) for
  // c = (1.5, 1.5); so output (x, y) samples (sx, sy) = (3 - y, x).
  std::vector<float> v;
  for (int y = 0; y < 3; ++y) for (int x = 0; x < 3; ++x) v.push_back(float(1 + 3 * y + x));
  double m[6];
  rotation_matrix(1.5, 1.5, 90.0, 1.0, m);
  std::vector<double> r = values(warp_affine(map_of(3, 3, 1, v), m, Interp::Nearest));
  // Row y = 0 samples sx = 3, outside the map -> zero border.
  CHECK(r[0] == 0);
  CHECK(r[1] == 0);
  // out(x=0, y=1): src (2, 0) -> 3; out(x=1, y=1): src (2, 1) -> 6; out(x=2, y=2): src (1, 2) -> 8.
  CHECK(r[3] == 3);
  CHECK(r[4] == 6);
  CHECK(r[8] == 8);
}

TEST_CASE("resize renormalises normals and augment is deterministic per seed") {
  Sample s;
  std::vector<float> n;
  for (int i = 0; i < 16; ++i) { n.push_back(i % 2 ? 0.6f : 0.0f); n.push_back(0); n.push_back(i % 2 ? 0.8f : 1.0f); }
  s.fields["normals"] = {map_of(4, 4, 3, n), Interp::Cubic};
  s.fields["image"] = {Tensor::full({4, 4, 3}, 100.0, DType::F32), Interp::Cubic};
  Sample t = s;
  AugmentConfig cfg;
  cfg.out_h = 6;
  cfg.out_w = 10;
  Rng a(5), b(5);
  augment(s, cfg, a);
  augment(t, cfg, b);
  CHECK(values(s.fields["normals"].map) == values(t.fields["normals"].map));
  std::vector<double> out = values(s.fields["normals"].map);
  for (size_t i = 0; i < out.size(); i += 3) {
    double len = std::sqrt(out[i] * out[i] + out[i + 1] * out[i + 1] + out[i + 2] * out[i + 2]);
    CHECK(len == doctest::Approx(1.0).epsilon(1e-5));
  }
}
