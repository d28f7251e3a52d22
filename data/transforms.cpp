#include "data/transforms.h"

#include <algorithm>
#include <cmath>

namespace mtinet {

namespace {

constexpr double kCubicA = -0.75;  // OpenCV's bicubic kernel parameter

void cubic_weights(double t, double w[4]) {
  const double A = kCubicA;
  double t1 = t + 1, u = 1 - t;
  w[0] = ((A * t1 - 5 * A) * t1 + 8 * A) * t1 - 4 * A;
  w[1] = ((A + 2) * t - (A + 3)) * t * t + 1;
  w[2] = ((A + 2) * u - (A + 3)) * u * u + 1;
  w[3] = 1 - w[0] - w[1] - w[2];
}

struct MapView {
  const float* p;
  int64_t h, w, c;
  float at(int64_t y, int64_t x, int64_t k) const { return p[(y * w + x) * c + k]; }
};

MapView view(const Tensor& m) {
  MTINET_CHECK(m.ndim() == 3 && m.dtype() == DType::F32, "augmentation expects an {H, W, C} f32 map, got ",
               m.describe());
  return {m.data<float>(), m.dim(0), m.dim(1), m.dim(2)};
}

// Samples the map at fractional source position (sy, sx). `clamp` replicates the border (resize); otherwise
// neighbours outside the map count as zero (warpAffine's constant border).
void sample_cubic(const MapView& v, double sy, double sx, bool clamp, float* out) {
  int64_t y0 = int64_t(std::floor(sy)), x0 = int64_t(std::floor(sx));
  double wy[4], wx[4];
  cubic_weights(sy - double(y0), wy);
  cubic_weights(sx - double(x0), wx);
  for (int64_t k = 0; k < v.c; ++k) {
    double acc = 0;
    for (int i = 0; i < 4; ++i) {
      int64_t y = y0 - 1 + i;
      if (clamp) y = std::clamp<int64_t>(y, 0, v.h - 1);
      else if (y < 0 || y >= v.h) continue;
      for (int j = 0; j < 4; ++j) {
        int64_t x = x0 - 1 + j;
        if (clamp) x = std::clamp<int64_t>(x, 0, v.w - 1);
        else if (x < 0 || x >= v.w) continue;
        acc += wy[i] * wx[j] * double(v.at(y, x, k));
      }
    }
    out[k] = float(acc);
  }
}

template <class F>
Tensor map_pixels(const Tensor& map, int64_t out_h, int64_t out_w, F fill_pixel) {
  MapView v = view(map);
  Tensor out = Tensor::empty({out_h, out_w, v.c}, DType::F32);
  float* o = out.data<float>();
#pragma omp parallel for schedule(static) if (out_h * out_w > 16384)
  for (int64_t y = 0; y < out_h; ++y)
    for (int64_t x = 0; x < out_w; ++x) fill_pixel(v, y, x, o + (y * out_w + x) * v.c);
  return out;
}

}  // namespace

Tensor resize_map(const Tensor& map, int64_t out_h, int64_t out_w, Interp interp) {
  MTINET_CHECK(out_h > 0 && out_w > 0, "resize to a non-positive size ", out_h, "x", out_w);
  double sy = double(map.dim(0)) / double(out_h), sx = double(map.dim(1)) / double(out_w);
  if (interp == Interp::Nearest) {
    return map_pixels(map, out_h, out_w, [&](const MapView& v, int64_t y, int64_t x, float* o) {
      int64_t iy = std::min<int64_t>(int64_t(std::floor(double(y) * sy)), v.h - 1);
      int64_t ix = std::min<int64_t>(int64_t(std::floor(double(x) * sx)), v.w - 1);
      for (int64_t k = 0; k < v.c; ++k) o[k] = v.at(iy, ix, k);
    });
  }
  return map_pixels(map, out_h, out_w, [&](const MapView& v, int64_t y, int64_t x, float* o) {
    sample_cubic(v, (double(y) + 0.5) * sy - 0.5, (double(x) + 0.5) * sx - 0.5, true, o);
  });
}

void rotation_matrix(double cx, double cy, double angle_deg, double scale, double out[6]) {
  double a = angle_deg * M_PI / 180.0;
  double alpha = scale * std::cos(a), beta = scale * std::sin(a);
  out[0] = alpha;
  out[1] = beta;
  out[2] = (1 - alpha) * cx - beta * cy;
  out[3] = -beta;
  out[4] = alpha;
  out[5] = beta * cx + (1 - alpha) * cy;
}

Tensor warp_affine(const Tensor& map, const double m[6], Interp interp) {
  double det = m[0] * m[4] - m[1] * m[3];
  MTINET_CHECK(std::abs(det) > 1e-12, "warp_affine: singular transform");
  // Inverse of [[a b c] [d e f]]: output pixel -> source position.
  double ia = m[4] / det, ib = -m[1] / det, id = -m[3] / det, ie = m[0] / det;
  double ic = -(ia * m[2] + ib * m[5]), iff = -(id * m[2] + ie * m[5]);
  return map_pixels(map, map.dim(0), map.dim(1), [&](const MapView& v, int64_t y, int64_t x, float* o) {
    double sx = ia * double(x) + ib * double(y) + ic;
    double sy = id * double(x) + ie * double(y) + iff;
    if (interp == Interp::Cubic) {
      sample_cubic(v, sy, sx, false, o);
      return;
    }
    int64_t iy = int64_t(std::floor(sy + 0.5)), ix = int64_t(std::floor(sx + 0.5));
    bool inside = iy >= 0 && iy < v.h && ix >= 0 && ix < v.w;
    for (int64_t k = 0; k < v.c; ++k) o[k] = inside ? v.at(iy, ix, k) : 0.0f;
  });
}

void renormalise_normals(Tensor& normals) {
  float* p = normals.data<float>();
  int64_t c = normals.dim(-1);
  for (int64_t i = 0; i < normals.numel(); i += c) {
    double n2 = 0;
    for (int64_t k = 0; k < c; ++k) n2 += double(p[i + k]) * p[i + k];
    if (n2 <= 0) continue;
    double inv = 1.0 / std::sqrt(n2);
    for (int64_t k = 0; k < c; ++k) p[i + k] = float(p[i + k] * inv);
  }
}

void flip_horizontal(Sample& s) {
  for (auto& [name, f] : s.fields) {
    MapView v = view(f.map);
    Tensor out = Tensor::empty(f.map.shape(), DType::F32);
    float* o = out.data<float>();
    for (int64_t y = 0; y < v.h; ++y)
      for (int64_t x = 0; x < v.w; ++x)
        for (int64_t k = 0; k < v.c; ++k) o[(y * v.w + x) * v.c + k] = v.at(y, v.w - 1 - x, k);
    if (name == "normals")
      for (int64_t i = 0; i < out.numel(); i += v.c) o[i] = -o[i];
    f.map = out;
  }
}

void rotate_normals_in_plane(Tensor& normals, double angle_deg) {
  // The reference's ScaleNRotate: with (n0, n1) = r (sin phi, cos phi), phi = atan2(n0, n1), the vector becomes
  // r (sin(phi + a), cos(phi + a)); written here as the equivalent rotation of (n0, n1). n2 is unchanged.
  double a = angle_deg * M_PI / 180.0, c = std::cos(a), sn = std::sin(a);
  float* p = normals.data<float>();
  int64_t ch = normals.dim(-1);
  for (int64_t i = 0; i < normals.numel(); i += ch) {
    double n0 = p[i], n1 = p[i + 1];
    p[i] = float(n0 * c + n1 * sn);
    p[i + 1] = float(n1 * c - n0 * sn);
  }
}

void scale_rotate(Sample& s, double scale, double angle_deg) {
  double m[6];
  rotation_matrix(double(s.width()) / 2, double(s.height()) / 2, angle_deg, scale, m);
  for (auto& [name, f] : s.fields) {
    if (name == "normals" && angle_deg != 0.0) rotate_normals_in_plane(f.map, angle_deg);
    f.map = warp_affine(f.map, m, f.interp);
    if (name == "depth") {
      float* p = f.map.data<float>();
      for (int64_t i = 0; i < f.map.numel(); ++i) p[i] = float(p[i] / scale);
    }
  }
}

void resize_sample(Sample& s, int64_t h, int64_t w) {
  if (s.height() == h && s.width() == w) return;
  for (auto& [name, f] : s.fields) {
    f.map = resize_map(f.map, h, w, f.interp);
    if (name == "normals") renormalise_normals(f.map);
  }
}

namespace {
double draw(const std::vector<double>& list, const std::vector<double>& range, Rng& rng) {
  if (range.size() == 2) return rng.uniform(range[0], range[1]);
  MTINET_CHECK(!list.empty(), "augmentation: an empty list of scales/rotations");
  return list[size_t(rng.randint(int64_t(list.size())))];
}
}  // namespace

void augment(Sample& s, const AugmentConfig& cfg, Rng& rng) {
  if (cfg.flip && rng.uniform() < 0.5) flip_horizontal(s);
  if (cfg.scale_rotate) {
    double scale = draw(cfg.scales, cfg.scale_range, rng);
    double angle = draw(cfg.rotations, cfg.rotation_range, rng);
    if (scale != 1.0 || angle != 0.0) scale_rotate(s, scale, angle);
  }
  resize_sample(s, cfg.out_h, cfg.out_w);
}

void resize_only(Sample& s, const AugmentConfig& cfg) { resize_sample(s, cfg.out_h, cfg.out_w); }

int64_t Sample::height() const {
  MTINET_CHECK(!fields.empty(), "sample '", id, "' has no fields");
  return fields.begin()->second.map.dim(0);
}
int64_t Sample::width() const {
  MTINET_CHECK(!fields.empty(), "sample '", id, "' has no fields");
  return fields.begin()->second.map.dim(1);
}

}  // namespace mtinet
