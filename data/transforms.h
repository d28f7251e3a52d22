// The reference augmentations, on HWC f32 maps. Each is switchable from the config.
//   flip: horizontal, p = 0.5, normals' x component negated.
//   scale_rotate: about the centre, output size kept (OpenCV's getRotationMatrix2D + warpAffine, zero border);
//     the scale is drawn from a list (NYUD: {1, 1.2, 1.5}) or uniformly from a range (PASCAL: 0.75..1.25), the angle
//     likewise; depth is divided by the scale (zooming in brings the scene closer); normals are rotated in the image
//     plane by the angle (rotate_normals_in_plane), as the reference's ScaleNRotate does.
//   resize: to a fixed size, cubic for images and normals (then re-normalised), nearest for labels.
#pragma once
#include <vector>

#include "core/rng.h"
#include "data/sample.h"

namespace mtinet {

// Resampling primitives (OpenCV semantics: pixel centres at +0.5, cubic kernel a = -0.75, replicated border for
// resize; warps use a zero border).
Tensor resize_map(const Tensor& map, int64_t out_h, int64_t out_w, Interp interp);
// Output pixel (x, y) samples the input at A^-1 applied to (x, y), with A the 2x3 forward affine matrix.
Tensor warp_affine(const Tensor& map, const double forward[6], Interp interp);
// OpenCV's getRotationMatrix2D: rotation by angle_deg (counter-clockwise) and scale about (cx, cy).
void rotation_matrix(double cx, double cy, double angle_deg, double scale, double out[6]);

void flip_horizontal(Sample& s);  // and negates normals' x
// The reference's in-plane rotation of normal vectors by the warp's angle (x and y components; before the warp).
void rotate_normals_in_plane(Tensor& normals, double angle_deg);
void scale_rotate(Sample& s, double scale, double angle_deg);
void resize_sample(Sample& s, int64_t h, int64_t w);
void renormalise_normals(Tensor& normals);  // unit length where non-zero

struct AugmentConfig {
  bool flip = true;
  bool scale_rotate = true;
  std::vector<double> scales = {1.0, 1.2, 1.5};  // drawn from the list, or if scale_range is set, uniformly
  std::vector<double> scale_range;               // {lo, hi}
  std::vector<double> rotations = {0.0};          // likewise for angles in degrees
  std::vector<double> rotation_range;             // {lo, hi}
  int64_t out_h = 480, out_w = 640;
};

// Applies flip -> scale_rotate -> resize as configured, drawing from rng.
void augment(Sample& s, const AugmentConfig& cfg, Rng& rng);
// Only the final resize (evaluation).
void resize_only(Sample& s, const AugmentConfig& cfg);

}  // namespace mtinet
