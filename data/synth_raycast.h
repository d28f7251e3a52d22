// Ray casting of a synth::Scene: one ray per pixel centre gives the nearest surface, and from that one hit every
// task's ground truth (class, z-depth, camera-frame normal, colour), so the tasks agree with each other exactly.
#pragma once
#include <cstdint>
#include <limits>
#include <vector>

#include "data/synth_scene.h"

namespace mtinet::synth {

// Surface ids: the room's six faces, then the objects in order.
enum RoomFace : int { kFloorFace = 0, kCeilingFace, kWallX0, kWallX1, kWallZ0, kWallZ1, kNumRoomFaces };
constexpr int kNoSurface = -1;

struct RayHit {
  double t = std::numeric_limits<double>::infinity();  // hit = origin + t * direction
  int surface = kNoSurface;                            // RoomFace or kNumRoomFaces + object index
  Vec3 normal;                                         // world frame, unit, facing the ray's origin
};

// The nearest hit of origin + t * direction with t in (0, t_max). The room is intersected from the inside.
RayHit cast_ray(const Scene& scene, Vec3 origin, Vec3 direction,
                double t_max = std::numeric_limits<double>::infinity());
int surface_label(const Scene& scene, int surface);

// Per-pixel results, row-major; depth is the clean z-depth (no sensor effects), normals are camera-frame unit
// vectors facing the camera (x right, y down, z forward).
struct SceneRender {
  int height = 0, width = 0;
  std::vector<uint8_t> rgb;      // H*W*3, sRGB
  std::vector<uint8_t> label;    // H*W, 0..40
  std::vector<float> depth;      // H*W, metres along the optical axis; 0 where no surface was hit
  std::vector<float> normal;     // H*W*3
  std::vector<int32_t> surface;  // H*W, the surface id each pixel sees
};

// Shading: ambient + Lambert from the point lights (with hard shadows and distance falloff) times the surface's
// textured albedo, gamma-encoded, plus Gaussian sensor noise of standard deviation pixel_noise (in [0, 1]
// units, after encoding) drawn from rng.
SceneRender render_scene(const Scene& scene, Rng& rng, double pixel_noise = 0.01);

}  // namespace mtinet::synth
