// The scene description of the procedural multi-task generator (`mtinet synth`): a box-shaped room (floor, walls,
// ceiling) furnished with boxes, spheres and vertical cylinders, each carrying an NYUD-40 class id, seen by a
// pinhole camera with NYUD's intrinsics scaled to the image size and lit by point lights.
//
// World frame: metres, y up, the room spans [0, size.x] x [0, size.y] x [0, size.z] (floor at y = 0).
// Camera frame (as NYUD's z-depth uses): x right, y down, z forward.
#pragma once
#include <cstdint>
#include <vector>

#include "core/rng.h"

namespace mtinet::synth {

struct Vec3 {
  double x = 0, y = 0, z = 0;
};
inline Vec3 operator+(Vec3 a, Vec3 b) { return {a.x + b.x, a.y + b.y, a.z + b.z}; }
inline Vec3 operator-(Vec3 a, Vec3 b) { return {a.x - b.x, a.y - b.y, a.z - b.z}; }
inline Vec3 operator-(Vec3 a) { return {-a.x, -a.y, -a.z}; }
inline Vec3 operator*(double s, Vec3 a) { return {s * a.x, s * a.y, s * a.z}; }
inline Vec3 operator*(Vec3 a, Vec3 b) { return {a.x * b.x, a.y * b.y, a.z * b.z}; }
inline double dot(Vec3 a, Vec3 b) { return a.x * b.x + a.y * b.y + a.z * b.z; }
inline Vec3 cross(Vec3 a, Vec3 b) { return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x}; }
Vec3 normalized(Vec3 a);

constexpr int kNumClasses = 40;  // NYUD-40 ids 1..40; 0 = unlabeled
const char* nyu40_class_name(int label);

// NYUD-40 ids the generator uses.
namespace cls {
constexpr int kWall = 1, kFloor = 2, kCabinet = 3, kBed = 4, kChair = 5, kSofa = 6, kTable = 7, kDoor = 8,
              kWindow = 9, kBookshelf = 10, kPicture = 11, kCounter = 12, kBlinds = 13, kDesk = 14, kShelves = 15,
              kCurtain = 16, kDresser = 17, kPillow = 18, kMirror = 19, kFloorMat = 20, kCeiling = 22, kBooks = 23,
              kRefrigerator = 24, kTelevision = 25, kBox = 29, kWhiteboard = 30, kPerson = 31, kNightStand = 32,
              kToilet = 33, kLamp = 35, kBathtub = 36, kBag = 37, kOtherFurniture = 39, kOtherProp = 40;
}

// How a surface looks: two colours mixed by a solid (3-D) texture of the world position, so classes differ in
// pattern and scale as well as in colour, and the texture stays put when the camera moves.
enum class Pattern : uint8_t { Stripes, Checker, Noise, Grain };
struct Appearance {
  Vec3 color_a, color_b;  // linear RGB in [0, 1]
  Pattern pattern = Pattern::Noise;
  double frequency = 4;   // pattern cycles per metre
  Vec3 direction{1, 0, 0};  // stripe/grain direction (unit)
};
// The fixed appearance of a class (the same in every image, so it can be learned); per-object jitter is applied
// by the scene generator on top.
Appearance class_appearance(int label);

enum class ShapeKind : uint8_t { Box, Sphere, Cylinder };
struct SceneObject {
  ShapeKind kind = ShapeKind::Box;
  int label = 0;        // 0..40; 0 = unlabeled clutter
  Vec3 center;          // box/cylinder: centre of the volume; sphere: centre
  Vec3 half_extent;     // box: half sizes along its local axes; cylinder: (radius, half height, radius)
  double radius = 0;    // sphere and cylinder
  double yaw = 0;       // box: rotation about the world y axis (radians)
  Appearance look;
};

struct Camera {
  Vec3 position;
  Vec3 right, down, forward;  // camera axes in world coordinates (orthonormal, right-handed: right x down = forward)
  double fx = 0, fy = 0, cx = 0, cy = 0;
  int height = 0, width = 0;
  // The world direction (not normalised, forward component 1) through pixel centre (row, col).
  Vec3 ray_direction(double row, double col) const;
  // A world vector in camera coordinates.
  Vec3 to_camera(Vec3 world) const { return {dot(world, right), dot(world, down), dot(world, forward)}; }
};
// A camera at eye looking at target, rolled by roll radians about its optical axis, with NYUD-v2's intrinsics
// (fx 518.86, fy 519.47 at 640x480) scaled to height x width.
Camera look_at(Vec3 eye, Vec3 target, double roll, int height, int width);

struct PointLight {
  Vec3 position;
  double intensity = 1;
};

struct Scene {
  Vec3 room_size;  // the room is [0, room_size]
  int wall_label = cls::kWall, floor_label = cls::kFloor, ceiling_label = cls::kCeiling;
  Appearance wall_look, floor_look, ceiling_look;
  std::vector<SceneObject> objects;
  Camera camera;
  std::vector<PointLight> lights;
  double ambient = 0.3;
  double min_range = 0.4, max_range = 10.0;  // the simulated sensor's valid depth range (metres)
};

// A random furnished room and a camera inside it; every draw comes from rng, so the scene is a function of its
// seed.
Scene random_scene(Rng& rng, int height, int width);

}  // namespace mtinet::synth
