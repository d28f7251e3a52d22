// Colour maps that turn predictions and labels into RGB images for PNG visualisations.
#pragma once
#include "core/tensor.h"

namespace mtinet {

// {H, W} integer labels -> {H, W, 3} u8 with the PASCAL VOC palette (255 = ignore drawn white).
Tensor colorize_labels(const Tensor& labels);
// {H, W} (or {H,W,1}) depth in metres -> {H, W, 3} u8, near = yellow, far = dark purple (a viridis-like ramp);
// values <= 0 (invalid) are black. The range is [min valid, max valid] unless lo < hi is given.
Tensor colorize_depth(const Tensor& depth, double lo = 0, double hi = 0);
// {H, W} (or {H,W,1}) values -> {H, W, 3} u8 on the same ramp, lo dark purple, hi yellow (values outside clamped):
// attention maps and masks.
Tensor colorize_heat(const Tensor& map, double lo, double hi);
// {H, W, 3} normals in [-1, 1] -> {H, W, 3} u8 as (n + 1) / 2 * 255 (the usual normal-map rendering).
Tensor colorize_normals(const Tensor& normals);
// {H, W} (or {H,W,1}) probabilities in [0, 1] -> {H, W, 1} u8 grey.
Tensor grey_map(const Tensor& prob);

}  // namespace mtinet
