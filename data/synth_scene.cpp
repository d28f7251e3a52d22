#include "data/synth_scene.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace mtinet::synth {

Vec3 normalized(Vec3 a) {
  double n = std::sqrt(dot(a, a));
  return n > 0 ? (1.0 / n) * a : a;
}

const char* nyu40_class_name(int label) {
  static const char* kNames[kNumClasses + 1] = {
      "unlabeled", "wall", "floor", "cabinet", "bed", "chair", "sofa", "table", "door", "window", "bookshelf",
      "picture", "counter", "blinds", "desk", "shelves", "curtain", "dresser", "pillow", "mirror", "floor mat",
      "clothes", "ceiling", "books", "refrigerator", "television", "paper", "towel", "shower curtain", "box",
      "whiteboard", "person", "night stand", "toilet", "sink", "lamp", "bathtub", "bag", "otherstructure",
      "otherfurniture", "otherprop"};
  return label >= 0 && label <= kNumClasses ? kNames[label] : "invalid";
}

namespace {

constexpr double kPi = 3.14159265358979323846;

Vec3 hsv(double h, double s, double v) {
  h = h - std::floor(h);
  double c = v * s, x = c * (1 - std::abs(std::fmod(h * 6, 2.0) - 1)), m = v - c;
  int sector = int(h * 6) % 6;
  Vec3 rgb = sector == 0 ? Vec3{c, x, 0} : sector == 1 ? Vec3{x, c, 0} : sector == 2 ? Vec3{0, c, x}
           : sector == 3 ? Vec3{0, x, c} : sector == 4 ? Vec3{x, 0, c} : Vec3{c, 0, x};
  return rgb + Vec3{m, m, m};
}

Vec3 random_direction(Rng& rng) {
  for (;;) {
    Vec3 d{rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-1, 1)};
    double n2 = dot(d, d);
    if (n2 > 0.05 && n2 <= 1) return normalized(d);
  }
}

Appearance random_appearance(Rng& rng) {
  Appearance a;
  double hue = rng.uniform(), sat = rng.uniform(0.25, 0.8), val = rng.uniform(0.45, 0.9);
  a.color_a = hsv(hue, sat, val);
  // The second colour is a darker, shifted variant, so the pattern is visible but the class keeps one hue family.
  a.color_b = hsv(hue + rng.uniform(-0.12, 0.12), std::min(1.0, sat * rng.uniform(0.8, 1.3)),
                  val * rng.uniform(0.35, 0.7));
  a.pattern = Pattern(rng.randint(4));
  a.frequency = rng.uniform(2.0, 12.0);
  a.direction = random_direction(rng);
  return a;
}

// Small per-object (or per-room) variation on a class look: brightness and tint, as real instances of a class vary.
Appearance jittered(Appearance a, Rng& rng) {
  double gain = rng.uniform(0.85, 1.15);
  Vec3 tint{rng.uniform(0.93, 1.07), rng.uniform(0.93, 1.07), rng.uniform(0.93, 1.07)};
  a.color_a = gain * (a.color_a * tint);
  a.color_b = gain * (a.color_b * tint);
  return a;
}

}  // namespace

Appearance class_appearance(int label) {
  MTINET_CHECK(label >= 0 && label <= kNumClasses, "class_appearance: label ", label, " is outside 0..40");
  Rng rng(0x5EEDC1A55ull * 1000003ull + uint64_t(label));
  Appearance a = random_appearance(rng);
  // Room surfaces get plausible looks: pale walls, white ceiling, darker wood-grain floor.
  if (label == cls::kWall) {
    a.color_a = {0.82, 0.78, 0.70};
    a.color_b = {0.70, 0.66, 0.58};
    a.pattern = Pattern::Noise;
    a.frequency = 3;
  } else if (label == cls::kCeiling) {
    a.color_a = {0.92, 0.92, 0.90};
    a.color_b = {0.84, 0.84, 0.82};
    a.pattern = Pattern::Checker;
    a.frequency = 1.7;  // ceiling tiles
  } else if (label == cls::kFloor) {
    a.color_a = {0.55, 0.38, 0.22};
    a.color_b = {0.38, 0.25, 0.13};
    a.pattern = Pattern::Grain;
    a.frequency = 9;
    a.direction = {1, 0, 0};
  }
  return a;
}

Vec3 Camera::ray_direction(double row, double col) const {
  return ((col + 0.5 - cx) / fx) * right + ((row + 0.5 - cy) / fy) * down + forward;
}

Camera look_at(Vec3 eye, Vec3 target, double roll, int height, int width) {
  MTINET_CHECK(height > 0 && width > 0, "look_at: image size must be positive, got ", height, "x", width);
  Camera c;
  c.position = eye;
  c.forward = normalized(target - eye);
  Vec3 right = normalized(cross(c.forward, Vec3{0, 1, 0}));
  MTINET_CHECK(dot(right, right) > 0.5, "look_at: the camera cannot look straight up or down");
  Vec3 down = cross(c.forward, right);
  c.right = std::cos(roll) * right + std::sin(roll) * down;
  c.down = -std::sin(roll) * right + std::cos(roll) * down;
  // NYUD-v2 Kinect intrinsics (640x480), scaled so the field of view is the same at any resolution.
  c.fx = 518.86 * width / 640.0;
  c.fy = 519.47 * height / 480.0;
  c.cx = width / 2.0;
  c.cy = height / 2.0;
  c.height = height;
  c.width = width;
  return c;
}

namespace {

enum class Placement : uint8_t { Floor, AgainstWall, OnWall, OnTop };

// A kind of object the generator places: its shape, class, size range (full width, height, depth) and where it
// goes. For cylinders width = diameter; OnWall objects have depth = thickness and a range for their bottom height;
// OnTop objects stand on a piece of furniture (or on the floor when there is none).
struct ObjectType {
  ShapeKind kind;
  int label;
  Placement placement;
  Vec3 size_min, size_max;
  double bottom_min = 0, bottom_max = 0;  // OnWall: height of the lower edge
};

const ObjectType kCatalogue[] = {
    {ShapeKind::Box, cls::kBed, Placement::AgainstWall, {1.3, 0.4, 1.9}, {1.9, 0.6, 2.1}},
    {ShapeKind::Box, cls::kTable, Placement::Floor, {0.8, 0.7, 0.6}, {1.6, 0.8, 1.0}},
    {ShapeKind::Box, cls::kDesk, Placement::AgainstWall, {1.0, 0.72, 0.5}, {1.6, 0.78, 0.8}},
    {ShapeKind::Box, cls::kCabinet, Placement::AgainstWall, {0.5, 0.6, 0.4}, {1.2, 1.0, 0.6}},
    {ShapeKind::Box, cls::kBookshelf, Placement::AgainstWall, {0.6, 1.5, 0.25}, {1.2, 2.1, 0.4}},
    {ShapeKind::Box, cls::kDresser, Placement::AgainstWall, {0.8, 0.7, 0.45}, {1.4, 1.1, 0.6}},
    {ShapeKind::Box, cls::kRefrigerator, Placement::AgainstWall, {0.6, 1.6, 0.6}, {0.8, 1.9, 0.75}},
    {ShapeKind::Box, cls::kNightStand, Placement::AgainstWall, {0.4, 0.5, 0.35}, {0.55, 0.65, 0.45}},
    {ShapeKind::Box, cls::kCounter, Placement::AgainstWall, {1.2, 0.85, 0.55}, {2.4, 0.95, 0.65}},
    {ShapeKind::Box, cls::kShelves, Placement::AgainstWall, {0.6, 0.8, 0.25}, {1.2, 1.8, 0.4}},
    {ShapeKind::Box, cls::kBathtub, Placement::AgainstWall, {1.5, 0.5, 0.7}, {1.7, 0.6, 0.8}},
    {ShapeKind::Box, cls::kToilet, Placement::AgainstWall, {0.36, 0.4, 0.6}, {0.42, 0.5, 0.7}},
    {ShapeKind::Cylinder, cls::kPerson, Placement::Floor, {0.4, 1.5, 0}, {0.5, 1.85, 0}},
    {ShapeKind::Box, cls::kSofa, Placement::Floor, {1.6, 0.7, 0.8}, {2.2, 0.9, 1.0}},
    {ShapeKind::Box, cls::kBox, Placement::Floor, {0.3, 0.25, 0.3}, {0.6, 0.5, 0.6}},
    {ShapeKind::Box, cls::kFloorMat, Placement::Floor, {0.8, 0.01, 0.6}, {2.0, 0.02, 1.4}},
    {ShapeKind::Cylinder, cls::kChair, Placement::Floor, {0.36, 0.45, 0}, {0.5, 0.6, 0}},
    {ShapeKind::Cylinder, cls::kOtherFurniture, Placement::Floor, {0.6, 0.5, 0}, {1.0, 0.8, 0}},
    {ShapeKind::Cylinder, cls::kLamp, Placement::Floor, {0.24, 1.2, 0}, {0.4, 1.7, 0}},
    {ShapeKind::Cylinder, cls::kBag, Placement::Floor, {0.24, 0.3, 0}, {0.4, 0.45, 0}},
    {ShapeKind::Cylinder, cls::kOtherProp, Placement::Floor, {0.24, 0.3, 0}, {0.36, 0.45, 0}},
    {ShapeKind::Box, cls::kBooks, Placement::OnTop, {0.15, 0.04, 0.2}, {0.35, 0.25, 0.3}},
    {ShapeKind::Box, cls::kBox, Placement::OnTop, {0.15, 0.1, 0.15}, {0.4, 0.3, 0.4}},
    {ShapeKind::Box, cls::kTelevision, Placement::OnTop, {0.5, 0.35, 0.08}, {0.9, 0.6, 0.15}},
    {ShapeKind::Cylinder, cls::kLamp, Placement::OnTop, {0.12, 0.25, 0}, {0.25, 0.5, 0}},
    {ShapeKind::Cylinder, cls::kOtherProp, Placement::OnTop, {0.06, 0.08, 0}, {0.16, 0.3, 0}},
    {ShapeKind::Box, cls::kPicture, Placement::OnWall, {0.4, 0.3, 0.03}, {1.0, 0.8, 0.03}, 1.1, 1.5},
    {ShapeKind::Box, cls::kWindow, Placement::OnWall, {0.8, 0.8, 0.04}, {1.5, 1.3, 0.04}, 0.8, 1.1},
    {ShapeKind::Box, cls::kDoor, Placement::OnWall, {0.8, 2.0, 0.05}, {0.95, 2.1, 0.05}, 0, 0},
    {ShapeKind::Box, cls::kWhiteboard, Placement::OnWall, {1.0, 0.7, 0.03}, {1.8, 1.1, 0.03}, 0.9, 1.2},
    {ShapeKind::Box, cls::kCurtain, Placement::OnWall, {1.0, 1.6, 0.06}, {2.0, 2.2, 0.06}, 0.2, 0.5},
    {ShapeKind::Box, cls::kBlinds, Placement::OnWall, {0.8, 0.8, 0.03}, {1.4, 1.2, 0.03}, 0.9, 1.1},
    {ShapeKind::Box, cls::kMirror, Placement::OnWall, {0.4, 0.6, 0.02}, {0.8, 1.2, 0.02}, 0.9, 1.2},
    {ShapeKind::Box, cls::kTelevision, Placement::OnWall, {0.8, 0.5, 0.08}, {1.2, 0.7, 0.08}, 1.0, 1.4},
};
constexpr int kCatalogueSize = int(sizeof(kCatalogue) / sizeof(kCatalogue[0]));
// Classes of the spheres (balls, pillows, lamp shades), set on top of a box when one is there.
const int kSphereLabels[] = {cls::kOtherProp, cls::kPillow, cls::kLamp};

constexpr double kUnlabeledFraction = 0.08;  // objects left unlabeled (0), like NYUD's unannotated clutter
constexpr double kCameraClearance = 0.5;     // free space around the camera (metres)

struct Footprint {
  double x, z, r;  // a bounding circle on the floor
};

// Builds scenes one object at a time, rejecting placements that collide with what is there.
class SceneBuilder {
 public:
  SceneBuilder(Scene& scene, Rng& rng) : s_(scene), rng_(rng) {}

  void add_random_object() {
    if (rng_.uniform() < 0.15) {
      add_sphere();
      return;
    }
    const ObjectType& type = kCatalogue[rng_.randint(kCatalogueSize)];
    for (int attempt = 0; attempt < 30; ++attempt)
      if (try_place(type)) return;
  }

 private:
  Vec3 random_size(const ObjectType& t) {
    return {rng_.uniform(t.size_min.x, t.size_max.x), rng_.uniform(t.size_min.y, t.size_max.y),
            rng_.uniform(t.size_min.z, t.size_max.z)};
  }

  SceneObject make_object(const ObjectType& t) {
    SceneObject o;
    o.kind = t.kind;
    o.label = t.label;
    if (t.placement != Placement::OnWall && rng_.uniform() < kUnlabeledFraction) o.label = 0;
    o.look = o.label == 0 ? random_appearance(rng_) : jittered(class_appearance(o.label), rng_);
    return o;
  }

  bool free_on_floor(const Footprint& f) const {
    const Vec3& cam = s_.camera.position;
    if (std::hypot(f.x - cam.x, f.z - cam.z) < f.r + kCameraClearance) return false;
    for (const Footprint& g : floor_)
      if (std::hypot(f.x - g.x, f.z - g.z) < f.r + g.r + 0.05) return false;
    return true;
  }

  // The radius of an object's footprint on the floor, whatever its yaw.
  static double footprint_radius(const SceneObject& o) {
    return o.kind == ShapeKind::Box ? std::hypot(o.half_extent.x, o.half_extent.z) : o.radius;
  }

  bool try_place(const ObjectType& t) {
    Vec3 size = random_size(t);
    SceneObject o = make_object(t);
    if (t.kind == ShapeKind::Cylinder) {
      o.radius = size.x / 2;
      o.half_extent = {o.radius, size.y / 2, o.radius};
    } else {
      o.half_extent = 0.5 * size;
    }
    if (t.placement == Placement::OnTop && !tops_.empty()) return place_on_top(o);
    if (t.placement == Placement::OnTop || t.placement == Placement::Floor)
      return place_on_floor(o, /*under_things=*/t.label == cls::kFloorMat);
    return place_at_wall(o, t);
  }

  // Anywhere on the floor, clear of the camera and (unless it is a mat) of the other floor objects.
  bool place_on_floor(SceneObject& o, bool under_things) {
    const Vec3 room = s_.room_size;
    if (o.kind == ShapeKind::Box) o.yaw = rng_.uniform(0, kPi);
    double r = footprint_radius(o);
    if (2 * r + 0.1 > std::min(room.x, room.z)) return false;
    o.center = {rng_.uniform(r, room.x - r), o.half_extent.y, rng_.uniform(r, room.z - r)};
    Footprint f{o.center.x, o.center.z, under_things ? 0.0 : r};
    if (!free_on_floor(f)) return false;
    if (!under_things) floor_.push_back(f);
    if (o.kind == ShapeKind::Box) tops_.push_back(int(s_.objects.size()));
    s_.objects.push_back(o);
    return true;
  }

  // Standing on a random piece of furniture with a flat top, its centre over the top's inscribed circle.
  bool place_on_top(SceneObject& o) {
    const SceneObject& base = s_.objects[size_t(tops_[size_t(rng_.randint(int64_t(tops_.size())))])];
    double base_r = std::min(base.half_extent.x, base.half_extent.z), r = footprint_radius(o);
    if (r > 1.2 * base_r) return false;  // would overhang too far
    double reach = std::max(0.0, base_r - r) / std::sqrt(2.0);
    if (o.kind == ShapeKind::Box) o.yaw = base.yaw + rng_.uniform(-0.4, 0.4);
    o.center = {base.center.x + rng_.uniform(-reach, reach), base.center.y + base.half_extent.y + o.half_extent.y,
                base.center.z + rng_.uniform(-reach, reach)};
    if (o.center.y + o.half_extent.y > s_.room_size.y - 0.05) return false;
    const Vec3& cam = s_.camera.position;
    if (std::sqrt(dot(o.center - cam, o.center - cam)) < r + o.half_extent.y + kCameraClearance) return false;
    s_.objects.push_back(o);
    return true;
  }

  // Against or on a wall: the box's local x runs along the wall, its local z (depth) points into the room.
  bool place_at_wall(SceneObject& o, const ObjectType& t) {
    const Vec3 room = s_.room_size;
    const Vec3 size = 2.0 * o.half_extent;
    int wall = int(rng_.randint(4));  // 0: z = 0, 1: z = room.z, 2: x = 0, 3: x = room.x
    bool along_x = wall < 2;
    double wall_length = along_x ? room.x : room.z;
    if (size.x + 0.1 > wall_length) return false;
    double along = rng_.uniform(size.x / 2 + 0.05, wall_length - size.x / 2 - 0.05);
    double gap = t.placement == Placement::OnWall ? 0.002 : 0.02;
    double offset = gap + o.half_extent.z;  // distance of the centre from the wall
    double across = (wall == 0 || wall == 2) ? offset : (along_x ? room.z : room.x) - offset;
    o.yaw = along_x ? 0 : kPi / 2;
    double bottom = t.placement == Placement::OnWall ? rng_.uniform(t.bottom_min, t.bottom_max) : 0;
    if (bottom + size.y > room.y - 0.05) return false;
    o.center = along_x ? Vec3{along, bottom + o.half_extent.y, across} : Vec3{across, bottom + o.half_extent.y, along};
    if (t.placement == Placement::OnWall) {
      for (const WallSpan& w : wall_spans_)
        if (w.wall == wall && std::abs(w.along - along) < w.half + size.x / 2 + 0.05) return false;
      wall_spans_.push_back({wall, along, size.x / 2});
    } else {
      Footprint f{o.center.x, o.center.z, footprint_radius(o)};
      if (!free_on_floor(f)) return false;
      floor_.push_back(f);
      tops_.push_back(int(s_.objects.size()));
    }
    s_.objects.push_back(o);
    return true;
  }

  // Balls, pillows and lamp shades: mostly on furniture, else on the floor.
  void add_sphere() {
    SceneObject o;
    o.kind = ShapeKind::Sphere;
    o.label = kSphereLabels[rng_.randint(3)];
    if (rng_.uniform() < kUnlabeledFraction) o.label = 0;
    o.look = o.label == 0 ? random_appearance(rng_) : jittered(class_appearance(o.label), rng_);
    o.radius = rng_.uniform(0.1, 0.25);
    o.half_extent = {o.radius, o.radius, o.radius};
    bool on_top = !tops_.empty() && rng_.uniform() < 0.7;
    for (int attempt = 0; attempt < 30; ++attempt)
      if (on_top ? place_on_top(o) : place_on_floor(o, false)) return;
  }

  struct WallSpan {
    int wall;
    double along, half;
  };
  Scene& s_;
  Rng& rng_;
  std::vector<Footprint> floor_;
  std::vector<WallSpan> wall_spans_;
  std::vector<int> tops_;  // objects with a flat top something can rest on
};

}  // namespace

Scene random_scene(Rng& rng, int height, int width) {
  Scene s;
  s.room_size = {rng.uniform(3.0, 5.5), rng.uniform(2.4, 3.0), rng.uniform(3.0, 6.0)};
  s.wall_look = jittered(class_appearance(s.wall_label), rng);
  s.floor_look = jittered(class_appearance(s.floor_label), rng);
  s.floor_look.direction = rng.uniform() < 0.5 ? Vec3{1, 0, 0} : Vec3{0, 0, 1};  // planks along x or z
  s.ceiling_look = jittered(class_appearance(s.ceiling_label), rng);

  // A hand-held Kinect: eye height 1.0-1.8 m. The furniture keeps clear of the eye, so it is placed first.
  const double margin = 0.4;
  Vec3 eye{rng.uniform(margin, s.room_size.x - margin), rng.uniform(1.0, 1.8),
           rng.uniform(margin, s.room_size.z - margin)};
  s.camera.position = eye;
  SceneBuilder builder(s, rng);
  int n_objects = 12 + int(rng.randint(13));
  for (int i = 0; i < n_objects; ++i) builder.add_random_object();

  // Mostly aimed at an object (people photograph things), otherwise at a random point across the room; looking
  // somewhat down and slightly rolled.
  std::vector<Vec3> aims;
  for (const SceneObject& o : s.objects)
    if (std::hypot(o.center.x - eye.x, o.center.z - eye.z) >= 1.2) aims.push_back(o.center);
  Vec3 target;
  if (!aims.empty() && rng.uniform() < 0.75) {
    target = aims[size_t(rng.randint(int64_t(aims.size())))] + Vec3{rng.uniform(-0.3, 0.3), 0, rng.uniform(-0.3, 0.3)};
    target.y = std::min(target.y, 1.3);
  } else {
    for (int attempt = 0; attempt < 50; ++attempt) {
      target = {rng.uniform(0.2, s.room_size.x - 0.2), rng.uniform(0.2, 1.3), rng.uniform(0.2, s.room_size.z - 0.2)};
      if (std::hypot(target.x - eye.x, target.z - eye.z) >= 1.8) break;
    }
  }
  double roll = std::clamp(rng.normal() * 0.05, -0.15, 0.15);
  s.camera = look_at(eye, target, roll, height, width);

  // Ceiling lights, above every object (objects end 5 cm below the ceiling), so none sits inside one.
  int n_lights = 1 + int(rng.randint(2));
  for (int i = 0; i < n_lights; ++i) {
    PointLight l;
    l.position = {rng.uniform(0.3, s.room_size.x - 0.3), s.room_size.y - 0.02, rng.uniform(0.3, s.room_size.z - 0.3)};
    l.intensity = rng.uniform(0.9, 1.3) / std::sqrt(double(n_lights));
    s.lights.push_back(l);
  }
  s.ambient = rng.uniform(0.2, 0.35);
  return s;
}

}  // namespace mtinet::synth
