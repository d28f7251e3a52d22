#include "data/synth_raycast.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace mtinet::synth {

namespace {

constexpr double kEps = 1e-9;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kTwoPi = 6.28318530717958647692;

// Box frame: world = R(yaw) local, with R(yaw) a rotation about y taking local x to (cos, 0, -sin).
Vec3 box_to_local(Vec3 v, double c, double s) { return {c * v.x - s * v.z, v.y, s * v.x + c * v.z}; }
Vec3 box_to_world(Vec3 v, double c, double s) { return {c * v.x + s * v.z, v.y, -s * v.x + c * v.z}; }

// Slab intersection in the box frame: the entry t (> 0) with the entry face's outward normal, or infinity.
double intersect_box(const SceneObject& o, double c, double s, Vec3 origin, Vec3 dir, Vec3& normal) {
  Vec3 p = box_to_local(origin - o.center, c, s), d = box_to_local(dir, c, s);
  const double pv[3] = {p.x, p.y, p.z}, dv[3] = {d.x, d.y, d.z}, hv[3] = {o.half_extent.x, o.half_extent.y,
                                                                            o.half_extent.z};
  double t_near = -kInf, t_far = kInf;
  int axis = -1;
  for (int a = 0; a < 3; ++a) {
    if (std::abs(dv[a]) < kEps) {
      if (std::abs(pv[a]) > hv[a]) return kInf;
      continue;
    }
    double t0 = (-hv[a] - pv[a]) / dv[a], t1 = (hv[a] - pv[a]) / dv[a];
    if (t0 > t1) std::swap(t0, t1);
    if (t0 > t_near) { t_near = t0; axis = a; }
    t_far = std::min(t_far, t1);
  }
  if (axis < 0 || t_near > t_far || t_near <= kEps) return kInf;  // a miss, or the origin is inside the box
  Vec3 n;
  double sign = dv[axis] > 0 ? -1.0 : 1.0;
  (axis == 0 ? n.x : axis == 1 ? n.y : n.z) = sign;
  normal = box_to_world(n, c, s);
  return t_near;
}

double intersect_sphere(const SceneObject& o, Vec3 origin, Vec3 dir, Vec3& normal) {
  Vec3 oc = origin - o.center;
  double a = dot(dir, dir), b = dot(oc, dir), c = dot(oc, oc) - o.radius * o.radius;
  double disc = b * b - a * c;
  if (disc < 0) return kInf;
  double t = (-b - std::sqrt(disc)) / a;
  if (t <= kEps) return kInf;
  normal = (1.0 / o.radius) * (origin + t * dir - o.center);
  return t;
}

// A vertical capped cylinder: the entry into (infinite cylinder) intersected with (slab between the caps).
double intersect_cylinder(const SceneObject& o, Vec3 origin, Vec3 dir, Vec3& normal) {
  Vec3 p = origin - o.center;
  double h = o.half_extent.y, r = o.radius;
  double t_side0 = -kInf, t_side1 = kInf;
  double a = dir.x * dir.x + dir.z * dir.z;
  if (a < kEps) {
    if (p.x * p.x + p.z * p.z > r * r) return kInf;
  } else {
    double b = p.x * dir.x + p.z * dir.z, c = p.x * p.x + p.z * p.z - r * r;
    double disc = b * b - a * c;
    if (disc < 0) return kInf;
    double q = std::sqrt(disc);
    t_side0 = (-b - q) / a;
    t_side1 = (-b + q) / a;
  }
  double t_cap0 = -kInf, t_cap1 = kInf;
  if (std::abs(dir.y) < kEps) {
    if (std::abs(p.y) > h) return kInf;
  } else {
    t_cap0 = (-h - p.y) / dir.y;
    t_cap1 = (h - p.y) / dir.y;
    if (t_cap0 > t_cap1) std::swap(t_cap0, t_cap1);
  }
  double t_near = std::max(t_side0, t_cap0), t_far = std::min(t_side1, t_cap1);
  if (t_near > t_far || t_near <= kEps) return kInf;
  if (t_side0 >= t_cap0) {
    Vec3 q = p + t_near * dir;
    normal = normalized(Vec3{q.x, 0, q.z});
  } else {
    normal = {0, dir.y > 0 ? -1.0 : 1.0, 0};
  }
  return t_near;
}

// An object with what every ray test needs precomputed: the box rotation and a bounding sphere that rejects most
// rays (and hits farther than the nearest so far) before the exact test.
struct PreparedObject {
  const SceneObject* object;
  double cos_yaw, sin_yaw;
  double bound_radius2;
};

PreparedObject prepare(const SceneObject& o) {
  PreparedObject p{&o, std::cos(o.yaw), std::sin(o.yaw), 0};
  double r2 = o.kind == ShapeKind::Box      ? dot(o.half_extent, o.half_extent)
              : o.kind == ShapeKind::Sphere ? o.radius * o.radius
                                            : o.radius * o.radius + o.half_extent.y * o.half_extent.y;
  p.bound_radius2 = r2 * (1 + 1e-9) + 1e-12;  // never clip the exact shape by rounding
  return p;
}

// The exact hit of a prepared object, or infinity; t_best lets the bounding sphere skip objects that cannot be
// nearer than a hit already found.
double intersect_object(const PreparedObject& p, Vec3 origin, Vec3 dir, double t_best, Vec3& normal) {
  const SceneObject& o = *p.object;
  Vec3 oc = origin - o.center;
  double a = dot(dir, dir), b = dot(oc, dir), c = dot(oc, oc) - p.bound_radius2;
  double disc = b * b - a * c;
  if (disc < 0 || (c > 0 && b > 0)) return kInf;  // misses the bound, or the bound lies behind the origin
  if ((-b - std::sqrt(disc)) / a >= t_best) return kInf;
  switch (o.kind) {
    case ShapeKind::Box: return intersect_box(o, p.cos_yaw, p.sin_yaw, origin, dir, normal);
    case ShapeKind::Sphere: return intersect_sphere(o, origin, dir, normal);
    case ShapeKind::Cylinder: return intersect_cylinder(o, origin, dir, normal);
  }
  return kInf;
}

// The room seen from inside: the nearest face the ray leaves through.
RayHit intersect_room(const Scene& scene, Vec3 origin, Vec3 dir) {
  RayHit hit;
  const double ov[3] = {origin.x, origin.y, origin.z}, dv[3] = {dir.x, dir.y, dir.z};
  const double size[3] = {scene.room_size.x, scene.room_size.y, scene.room_size.z};
  const int low_face[3] = {kWallX0, kFloorFace, kWallZ0}, high_face[3] = {kWallX1, kCeilingFace, kWallZ1};
  for (int a = 0; a < 3; ++a) {
    if (std::abs(dv[a]) < kEps) continue;
    bool up = dv[a] > 0;
    double t = ((up ? size[a] : 0.0) - ov[a]) / dv[a];
    if (t > kEps && t < hit.t) {
      hit.t = t;
      hit.surface = up ? high_face[a] : low_face[a];
      hit.normal = Vec3{};
      (a == 0 ? hit.normal.x : a == 1 ? hit.normal.y : hit.normal.z) = up ? -1.0 : 1.0;
    }
  }
  return hit;
}

const Appearance& surface_look(const Scene& scene, int surface) {
  if (surface == kFloorFace) return scene.floor_look;
  if (surface == kCeilingFace) return scene.ceiling_look;
  if (surface < kNumRoomFaces) return scene.wall_look;
  return scene.objects[size_t(surface - kNumRoomFaces)].look;
}

// Value noise in [0, 1]: smooth interpolation of hashed values on the integer lattice (no state, so it is the same
// for every thread and image).
double lattice_value(int64_t x, int64_t y, int64_t z) {
  uint64_t h = uint64_t(x) * 0x9E3779B97F4A7C15ull ^ uint64_t(y) * 0xC2B2AE3D27D4EB4Full ^
               uint64_t(z) * 0x165667B19E3779F9ull;
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 32;
  return double(h >> 11) * 0x1.0p-53;
}

double value_noise(Vec3 p) {
  double fx = std::floor(p.x), fy = std::floor(p.y), fz = std::floor(p.z);
  int64_t ix = int64_t(fx), iy = int64_t(fy), iz = int64_t(fz);
  auto smooth = [](double t) { return t * t * (3 - 2 * t); };
  double ux = smooth(p.x - fx), uy = smooth(p.y - fy), uz = smooth(p.z - fz);
  double result = 0;
  for (int corner = 0; corner < 8; ++corner) {
    int dx = corner & 1, dy = (corner >> 1) & 1, dz = (corner >> 2) & 1;
    double w = (dx ? ux : 1 - ux) * (dy ? uy : 1 - uy) * (dz ? uz : 1 - uz);
    result += w * lattice_value(ix + dx, iy + dy, iz + dz);
  }
  return result;
}

// The mix between the look's two colours at world point p, in [0, 1].
double pattern_value(const Appearance& look, Vec3 p) {
  double f = look.frequency;
  switch (look.pattern) {
    case Pattern::Stripes: return 0.5 + 0.5 * std::sin(kTwoPi * f * dot(p, look.direction));
    case Pattern::Checker: {
      int64_t parity = int64_t(std::floor(f * p.x)) + int64_t(std::floor(f * p.y)) + int64_t(std::floor(f * p.z));
      return double(parity & 1);
    }
    case Pattern::Noise: return 0.65 * value_noise(f * p) + 0.35 * value_noise(2.3 * f * p);
    case Pattern::Grain:
      return 0.5 + 0.5 * std::sin(kTwoPi * f * (dot(p, look.direction) + 0.12 * value_noise(1.5 * p)));
  }
  return 0;
}

// Ray queries against one scene, with its objects prepared once.
class Tracer {
 public:
  explicit Tracer(const Scene& scene) : scene_(scene) {
    for (const SceneObject& o : scene.objects) prepared_.push_back(prepare(o));
  }

  RayHit nearest(Vec3 origin, Vec3 dir, double t_max) const {
    RayHit hit = intersect_room(scene_, origin, dir);
    if (hit.t >= t_max) hit = RayHit{};
    for (size_t i = 0; i < prepared_.size(); ++i) {
      Vec3 n;
      double t = intersect_object(prepared_[i], origin, dir, std::min(hit.t, t_max), n);
      if (t < hit.t && t < t_max) {
        hit.t = t;
        hit.surface = kNumRoomFaces + int(i);
        hit.normal = n;
      }
    }
    if (hit.surface != kNoSurface && dot(hit.normal, dir) > 0) hit.normal = -hit.normal;
    return hit;
  }

  // Whether an object lies on the segment origin + t dir, t in (0, 1) (the room's faces never do: the segments
  // run between points inside it).
  bool blocked(Vec3 origin, Vec3 dir) const {
    Vec3 unused;
    for (const PreparedObject& p : prepared_)
      if (intersect_object(p, origin, dir, 1.0, unused) < 1.0) return true;
    return false;
  }

  Vec3 shade(const RayHit& hit, Vec3 point) const {
    const Appearance& look = surface_look(scene_, hit.surface);
    // Texture lookups a hair behind the visible surface, so patterns with cell boundaries on a face's plane (the
    // floor at y = 0) do not flicker between cells.
    double v = pattern_value(look, point - 1e-4 * hit.normal);
    Vec3 albedo = (1 - v) * look.color_a + v * look.color_b;
    double light = scene_.ambient;
    Vec3 lifted = point + 1e-6 * hit.normal;
    for (const PointLight& l : scene_.lights) {
      Vec3 to_light = l.position - lifted;
      double dist2 = dot(to_light, to_light);
      double cosine = dot(hit.normal, to_light) / std::sqrt(dist2);
      if (cosine <= 0 || blocked(lifted, to_light)) continue;  // facing away, or in shadow
      light += l.intensity * cosine / (1.0 + dist2 / 16.0);
    }
    return light * albedo;
  }

 private:
  const Scene& scene_;
  std::vector<PreparedObject> prepared_;
};

// Gamma-encodes a linear intensity (through a table: pow per channel would dominate the render time); the sensor
// noise is added after encoding, so it is even across brightness.
uint8_t encode_srgb(double linear, double noise) {
  constexpr int kSteps = 4096;
  static const std::vector<double> table = [] {
    std::vector<double> t(kSteps + 2);
    for (int i = 0; i <= kSteps + 1; ++i) t[size_t(i)] = std::pow(std::min(1.0, double(i) / kSteps), 1.0 / 2.2);
    return t;
  }();
  double x = std::clamp(linear, 0.0, 1.0) * kSteps;
  int i = int(x);
  double g = table[size_t(i)] + (x - i) * (table[size_t(i) + 1] - table[size_t(i)]) + noise;
  return uint8_t(std::lround(std::clamp(g, 0.0, 1.0) * 255.0));
}

}  // namespace

RayHit cast_ray(const Scene& scene, Vec3 origin, Vec3 direction, double t_max) {
  return Tracer(scene).nearest(origin, direction, t_max);
}

int surface_label(const Scene& scene, int surface) {
  MTINET_CHECK(surface >= 0 && surface < kNumRoomFaces + int(scene.objects.size()), "surface id ", surface,
               " is out of range");
  if (surface == kFloorFace) return scene.floor_label;
  if (surface == kCeilingFace) return scene.ceiling_label;
  if (surface < kNumRoomFaces) return scene.wall_label;
  return scene.objects[size_t(surface - kNumRoomFaces)].label;
}

SceneRender render_scene(const Scene& scene, Rng& rng, double pixel_noise) {
  const Camera& cam = scene.camera;
  MTINET_CHECK(cam.height > 0 && cam.width > 0, "render_scene: the camera has no image size");
  SceneRender r;
  r.height = cam.height;
  r.width = cam.width;
  size_t n = size_t(r.height) * size_t(r.width);
  r.rgb.assign(3 * n, 0);
  r.label.assign(n, 0);
  r.depth.assign(n, 0.0f);
  r.normal.assign(3 * n, 0.0f);
  r.surface.assign(n, kNoSurface);
  const Tracer tracer(scene);
  for (int row = 0; row < r.height; ++row) {
    for (int col = 0; col < r.width; ++col) {
      size_t i = size_t(row) * size_t(r.width) + size_t(col);
      Vec3 dir = cam.ray_direction(row, col);
      RayHit hit = tracer.nearest(cam.position, dir, kInf);
      Vec3 color{0, 0, 0};
      if (hit.surface != kNoSurface) {
        Vec3 point = cam.position + hit.t * dir;
        r.surface[i] = hit.surface;
        r.label[i] = uint8_t(surface_label(scene, hit.surface));
        r.depth[i] = float(dot(point - cam.position, cam.forward));
        Vec3 nc = cam.to_camera(hit.normal);
        r.normal[3 * i] = float(nc.x);
        r.normal[3 * i + 1] = float(nc.y);
        r.normal[3 * i + 2] = float(nc.z);
        color = tracer.shade(hit, point);
      }
      r.rgb[3 * i] = encode_srgb(color.x, pixel_noise * rng.normal());
      r.rgb[3 * i + 1] = encode_srgb(color.y, pixel_noise * rng.normal());
      r.rgb[3 * i + 2] = encode_srgb(color.z, pixel_noise * rng.normal());
    }
  }
  return r;
}

}  // namespace mtinet::synth
