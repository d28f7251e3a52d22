// Source-index math of bilinear resizing with align_corners=False, shared by the CPU loops
// (resize_bilinear_cpu.cpp) and the CUDA kernels (resize_bilinear.cu), so the CPU tests cover the formulas the device
// runs. It follows PyTorch's F.interpolate(mode='bilinear', align_corners=False):
//   src = (dst + 0.5) * scale - 0.5, clamped below at 0;  i0 = floor(src), i1 = min(i0 + 1, in - 1),
//   lambda = src - i0;  output = (1 - lambda) * x[i0] + lambda * x[i1]   (per axis; 2-D is the product).
// The arithmetic runs in the tensor's type T, as PyTorch does, so f32 results round the same way.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/dispatch.h"

namespace mtinet::kernels {

// Source step per output step along one axis. `factor` is the scale factor the output size came from, or 0 when
// the output size was given directly: PyTorch then uses in/out, and otherwise 1/factor (not in/out, which differs
// whenever in*factor is not an integer).
template <class T>
MTINET_HD T resize_source_scale(int64_t in_size, int64_t out_size, double factor) {
  return factor > 0 ? T(1.0 / factor) : T(in_size) / T(out_size);
}

// The two source taps of one output index along an axis and their weights (w0 + w1 = 1).
template <class T>
struct LinearTap {
  int64_t i0, i1;
  T w0, w1;
};

template <class T>
MTINET_HD LinearTap<T> linear_tap(int64_t dst, T scale, int64_t in_size) {
  T src = mul_rn(scale, T(dst) + T(0.5)) - T(0.5);  // unfused: see mul_rn
  if (src < T(0)) src = T(0);
  int64_t i0 = int64_t(src);  // src >= 0, so truncation is floor
  if (i0 > in_size - 1) i0 = in_size - 1;  // cannot happen for valid sizes; guards rounding at the last index
  LinearTap<T> t;
  t.i0 = i0;
  t.i1 = i0 < in_size - 1 ? i0 + 1 : i0;
  T lambda = src - T(i0);
  if (lambda > T(1)) lambda = T(1);
  t.w0 = T(1) - lambda;
  t.w1 = lambda;
  return t;
}

// The interpolated value of one output element from its four source values (rows vy, columns vx): the single
// expression the resize forward on both devices and the upsampled losses evaluate, so they round alike.
template <class T>
MTINET_HD T bilinear_blend(const LinearTap<T>& vy, const LinearTap<T>& vx, T v00, T v01, T v10, T v11) {
  return vy.w0 * (vx.w0 * v00 + vx.w1 * v01) + vy.w1 * (vx.w0 * v10 + vx.w1 * v11);
}

// Weight with which the output of tap t reads source index i (both taps may hit i at the last index).
template <class T>
MTINET_HD T tap_weight(const LinearTap<T>& t, int64_t i) {
  return (t.i0 == i ? t.w0 : T(0)) + (t.i1 == i ? t.w1 : T(0));
}

// The smallest output index o in [0, out_size] with linear_tap(o).i0 >= target (out_size when there is none).
// i0 is non-decreasing in o (every step of its computation is monotone, rounding included), so the answer is a
// boundary; the closed-form estimate inverts src(o) >= target and the two loops correct it exactly against the
// forward formula, so the backward's ranges always agree with the forward's taps.
template <class T>
MTINET_HD int64_t first_output_at_least(int64_t target, T scale, int64_t in_size, int64_t out_size) {
  T est = (T(target) + T(0.5)) / scale - T(0.5);
  int64_t o = 0;
  if (est >= T(out_size)) o = out_size;
  else if (est > T(0)) o = int64_t(est);
  while (o > 0 && linear_tap(o - 1, scale, in_size).i0 >= target) --o;
  while (o < out_size && linear_tap(o, scale, in_size).i0 < target) ++o;
  return o;
}

// The output indices [begin, end) whose taps read source index i: exactly those with i0 in {i - 1, i}, since
// i1 = i0 + 1 except at the last index where i1 = i0. The gather form of the backward sums over this range.
struct OutputRange {
  int64_t begin, end;
};

template <class T>
MTINET_HD OutputRange outputs_reading(int64_t i, T scale, int64_t in_size, int64_t out_size) {
  OutputRange r;
  r.begin = first_output_at_least(i - 1, scale, in_size, out_size);
  r.end = first_output_at_least(i + 1, scale, in_size, out_size);
  return r;
}

// ---- host-side tables (the CPU loops) ----

// The taps of every output index along one axis.
template <class T>
std::vector<LinearTap<T>> axis_taps(int64_t in_size, int64_t out_size, double factor) {
  T scale = resize_source_scale<T>(in_size, out_size, factor);
  std::vector<LinearTap<T>> taps(static_cast<size_t>(out_size));
  for (int64_t o = 0; o < out_size; ++o) taps[size_t(o)] = linear_tap(o, scale, in_size);
  return taps;
}

// For every input index along one axis, the output indices that read it.
template <class T>
std::vector<OutputRange> axis_ranges(int64_t in_size, int64_t out_size, double factor) {
  T scale = resize_source_scale<T>(in_size, out_size, factor);
  std::vector<OutputRange> ranges(static_cast<size_t>(in_size));
  for (int64_t i = 0; i < in_size; ++i) ranges[size_t(i)] = outputs_reading(i, scale, in_size, out_size);
  return ranges;
}

}  // namespace mtinet::kernels
