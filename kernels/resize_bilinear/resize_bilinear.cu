// CUDA bilinear resize (align_corners=False), f32. One thread per output element in the forward; the backward is
// a gather, one thread per input element summing, in a fixed order, the weighted gradients of the few output
// pixels that read it (their range comes from the shared index math), so it needs no atomics and is
// deterministic. The per-element formulas are those of the CPU loops (kernels/resize_bilinear/resize_bilinear_math.h).
#include <cstdint>

#include "core/cuda_runtime.h"
#include "kernels/resize_bilinear/resize_bilinear.h"
#include "kernels/resize_bilinear/resize_bilinear_math.h"

namespace mtinet::kernels {

namespace {
struct ResizeDims {
  int64_t n, h, w, c;  // input
  int64_t oh, ow;      // output
};

template <class T>
__global__ void resize_forward_kernel(const T* __restrict__ x, T* __restrict__ y, ResizeDims d, T scale_h,
                                      T scale_w) {
  const int64_t total = d.n * d.oh * d.ow * d.c;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t k = i % d.c;
    int64_t t = i / d.c;
    const int64_t ox = t % d.ow;
    t /= d.ow;
    const int64_t oy = t % d.oh, b = t / d.oh;
    const LinearTap<T> vy = linear_tap(oy, scale_h, d.h), vx = linear_tap(ox, scale_w, d.w);
    const T* img = x + b * d.h * d.w * d.c + k;
    const T p00 = img[(vy.i0 * d.w + vx.i0) * d.c], p01 = img[(vy.i0 * d.w + vx.i1) * d.c];
    const T p10 = img[(vy.i1 * d.w + vx.i0) * d.c], p11 = img[(vy.i1 * d.w + vx.i1) * d.c];
    y[i] = bilinear_blend(vy, vx, p00, p01, p10, p11);
  }
}

template <class T>
__global__ void resize_backward_kernel(const T* __restrict__ gy, T* __restrict__ gx, ResizeDims d, T scale_h,
                                       T scale_w) {
  const int64_t total = d.n * d.h * d.w * d.c;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t k = i % d.c;
    int64_t t = i / d.c;
    const int64_t ix = t % d.w;
    t /= d.w;
    const int64_t iy = t % d.h, b = t / d.h;
    const OutputRange oys = outputs_reading(iy, scale_h, d.h, d.oh);
    const OutputRange oxs = outputs_reading(ix, scale_w, d.w, d.ow);
    T acc = T(0);
    // Same order as the CPU loop: output rows, then output columns.
    for (int64_t oy = oys.begin; oy < oys.end; ++oy) {
      const T wy = tap_weight(linear_tap(oy, scale_h, d.h), iy);
      const T* grow = gy + (b * d.oh + oy) * d.ow * d.c + k;
      for (int64_t ox = oxs.begin; ox < oxs.end; ++ox) {
        const T wgt = wy * tap_weight(linear_tap(ox, scale_w, d.w), ix);
        acc += wgt * grow[ox * d.c];
      }
    }
    gx[i] = acc;
  }
}

ResizeDims dims_of(const Tensor& in, const Tensor& out) {
  return {in.dim(0), in.dim(1), in.dim(2), in.dim(3), out.dim(1), out.dim(2)};
}

void check_f32(const char* op, const Tensor& t) {
  MTINET_CHECK(t.dtype() == DType::F32, op, " on CUDA supports f32 only, got ", t.describe());
}
}  // namespace

void resize_bilinear_forward_cuda(const Tensor& x, Tensor& y, double factor_h, double factor_w) {
  check_f32("resize_bilinear", x);
  const ResizeDims d = dims_of(x, y);
  const int64_t total = y.numel();
  if (total == 0) return;
  const float sh = resize_source_scale<float>(d.h, d.oh, factor_h), sw = resize_source_scale<float>(d.w, d.ow, factor_w);
  resize_forward_kernel<float><<<cuda::blocks_for(total), 256, 0, cuda::stream()>>>(x.data<float>(), y.data<float>(),
                                                                                    d, sh, sw);
  MTINET_CUDA_LAUNCH_CHECK("resize_forward_kernel");
}

void resize_bilinear_backward_cuda(const Tensor& gy, Tensor& gx, double factor_h, double factor_w) {
  check_f32("resize_bilinear backward", gy);
  const ResizeDims d = dims_of(gx, gy);
  const int64_t total = gx.numel();
  if (total == 0) return;
  const float sh = resize_source_scale<float>(d.h, d.oh, factor_h), sw = resize_source_scale<float>(d.w, d.ow, factor_w);
  resize_backward_kernel<float><<<cuda::blocks_for(total), 256, 0, cuda::stream()>>>(gy.data<float>(),
                                                                                     gx.data<float>(), d, sh, sw);
  MTINET_CUDA_LAUNCH_CHECK("resize_backward_kernel");
}

}  // namespace mtinet::kernels
