// CPU bilinear resize: per-axis tap tables computed once, OpenMP over output (forward) or input (backward) rows,
// channels innermost. The backward gathers, so threads never write the same element and the order is fixed.
#include <cstdint>
#include <vector>

#include "kernels/dispatch.h"
#include "kernels/resize_bilinear/resize_bilinear.h"
#include "kernels/resize_bilinear/resize_bilinear_math.h"
#include "kernels/cpu_parallel.h"

namespace mtinet::kernels {

namespace {
template <class T>
void forward(const T* x, T* y, int64_t n, int64_t h, int64_t w, int64_t c, int64_t oh, int64_t ow, double fh,
             double fw) {
  const std::vector<LinearTap<T>> ty = axis_taps<T>(h, oh, fh), tx = axis_taps<T>(w, ow, fw);
#pragma omp parallel for schedule(static) if (n * oh * ow * c > kMinParallelElements)
  for (int64_t row = 0; row < n * oh; ++row) {
    const int64_t b = row / oh;
    const LinearTap<T>& vy = ty[size_t(row % oh)];
    const T* r0 = x + (b * h + vy.i0) * w * c;
    const T* r1 = x + (b * h + vy.i1) * w * c;
    T* out = y + row * ow * c;
    for (int64_t ox = 0; ox < ow; ++ox) {
      const LinearTap<T>& vx = tx[size_t(ox)];
      const T *p00 = r0 + vx.i0 * c, *p01 = r0 + vx.i1 * c, *p10 = r1 + vx.i0 * c, *p11 = r1 + vx.i1 * c;
      T* o = out + ox * c;
      for (int64_t k = 0; k < c; ++k)
        o[k] = bilinear_blend(vy, vx, p00[k], p01[k], p10[k], p11[k]);
    }
  }
}

template <class T>
void backward(const T* gy, T* gx, int64_t n, int64_t h, int64_t w, int64_t c, int64_t oh, int64_t ow, double fh,
              double fw) {
  const std::vector<LinearTap<T>> ty = axis_taps<T>(h, oh, fh), tx = axis_taps<T>(w, ow, fw);
  const std::vector<OutputRange> ry = axis_ranges<T>(h, oh, fh), rx = axis_ranges<T>(w, ow, fw);
#pragma omp parallel for schedule(static) if (n * h * w * c > kMinParallelElements)
  for (int64_t row = 0; row < n * h; ++row) {
    const int64_t b = row / h, iy = row % h;
    const OutputRange& oys = ry[size_t(iy)];
    for (int64_t ix = 0; ix < w; ++ix) {
      const OutputRange& oxs = rx[size_t(ix)];
      T* acc = gx + (row * w + ix) * c;
      for (int64_t k = 0; k < c; ++k) acc[k] = T(0);
      // Fixed order: output rows, then output columns, as the CUDA kernel sums.
      for (int64_t oy = oys.begin; oy < oys.end; ++oy) {
        const T wy = tap_weight(ty[size_t(oy)], iy);
        const T* grow = gy + (b * oh + oy) * ow * c;
        for (int64_t ox = oxs.begin; ox < oxs.end; ++ox) {
          const T wgt = wy * tap_weight(tx[size_t(ox)], ix);
          const T* g = grow + ox * c;
          for (int64_t k = 0; k < c; ++k) acc[k] += wgt * g[k];
        }
      }
    }
  }
}
}  // namespace

void resize_bilinear_forward_cpu(const Tensor& x, Tensor& y, double factor_h, double factor_w) {
  MTINET_FLOAT_TYPES(x.dtype(), T,
                     forward(x.data<T>(), y.data<T>(), x.dim(0), x.dim(1), x.dim(2), x.dim(3), y.dim(1), y.dim(2),
                             factor_h, factor_w));
}

void resize_bilinear_backward_cpu(const Tensor& gy, Tensor& gx, double factor_h, double factor_w) {
  MTINET_FLOAT_TYPES(gy.dtype(), T,
                     backward(gy.data<T>(), gx.data<T>(), gx.dim(0), gx.dim(1), gx.dim(2), gx.dim(3), gy.dim(1),
                              gy.dim(2), factor_h, factor_w));
}

}  // namespace mtinet::kernels
