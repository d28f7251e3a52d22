// Index math of the upsampled losses (upsampled_losses.h), shared by the CPU loops (upsampled_losses_cpu.cpp) and
// the CUDA kernels (upsampled_losses.cu): where a label pixel's bilinearly interpolated prediction comes from. The
// interpolation is resize_bilinear's own (bilinear_blend, linear_tap with the size-given source scale), so a value
// read here is the value resize_bilinear(pred, H, W) would have stored; the loss formulas are losses_math.h's.
#pragma once
#include <cstdint>

#include "kernels/dispatch.h"
#include "kernels/resize_bilinear/resize_bilinear_math.h"

namespace mtinet::kernels {

// One label pixel's view of the low-resolution prediction: its four source pixels and their taps. s[k] is channel
// k of the upsampled prediction, computed on the fly.
template <class T>
struct UpsampledPixel {
  const T *p00, *p01, *p10, *p11;
  LinearTap<T> vy, vx;
  MTINET_HD T operator[](int64_t k) const { return bilinear_blend(vy, vx, p00[k], p01[k], p10[k], p11[k]); }
};

// The pixel of image b whose taps are vy (rows) and vx (columns), in an NHWC prediction {N, h, w, c}.
template <class T>
MTINET_HD UpsampledPixel<T> upsampled_pixel(const T* pred, int64_t b, int64_t h, int64_t w, int64_t c,
                                            const LinearTap<T>& vy, const LinearTap<T>& vx) {
  const T* img = pred + b * h * w * c;
  return {img + (vy.i0 * w + vx.i0) * c, img + (vy.i0 * w + vx.i1) * c, img + (vy.i1 * w + vx.i0) * c,
          img + (vy.i1 * w + vx.i1) * c, vy, vx};
}

// The geometry of an upsampled loss: prediction {n, h, w, c} read at label resolution oh x ow, with the source scale
// resize_bilinear uses when the output size is given (resize_source_scale with factor 0).
template <class T>
struct UpsampleGeometry {
  const T* pred;
  int64_t n, h, w, c, oh, ow;
  T scale_h, scale_w;

  // Label pixel i (row-major over n, oh, ow), taps computed on the spot (the CPU loops use tables instead).
  MTINET_HD UpsampledPixel<T> at(int64_t i) const {
    const int64_t ox = i % ow, oy = (i / ow) % oh, b = i / (ow * oh);
    return upsampled_pixel(pred, b, h, w, c, linear_tap(oy, scale_h, h), linear_tap(ox, scale_w, w));
  }
};

template <class T>
UpsampleGeometry<T> upsample_geometry(const T* pred, int64_t n, int64_t h, int64_t w, int64_t c, int64_t oh,
                                      int64_t ow) {
  return {pred, n, h, w, c, oh, ow, resize_source_scale<T>(h, oh, 0.0), resize_source_scale<T>(w, ow, 0.0)};
}

}  // namespace mtinet::kernels
