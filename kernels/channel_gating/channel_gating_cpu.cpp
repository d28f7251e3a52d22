// CPU loops for global average pooling and channel scaling, templated on float/double. Sums over the H*W pixels
// of an image accumulate in double in pixel order (OpenMP over images), so results do not depend on thread count.
#include <cstdint>
#include <vector>

#include "kernels/channel_gating/channel_gating.h"
#include "kernels/dispatch.h"
#include "kernels/cpu_parallel.h"

namespace mtinet::kernels {

namespace {

// {N,H,W,C} as N images of `pixels` rows of `ch` channels.
struct ImageDims {
  int64_t images, pixels, ch;
};
ImageDims image_dims(const Tensor& x) { return {x.dim(0), x.dim(1) * x.dim(2), x.dim(3)}; }

template <class T>
void avg_pool(const T* x, ImageDims d, T* y) {
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < d.images; ++n) {
    std::vector<double> acc(size_t(d.ch), 0.0);
    const T* img = x + n * d.pixels * d.ch;
    for (int64_t p = 0; p < d.pixels; ++p)
      for (int64_t c = 0; c < d.ch; ++c) acc[size_t(c)] += double(img[p * d.ch + c]);
    for (int64_t c = 0; c < d.ch; ++c) y[n * d.ch + c] = T(acc[size_t(c)] / double(d.pixels));
  }
}

template <class T>
void avg_pool_backward(const T* gy, ImageDims d, T* gx) {
  const T inv = T(1.0 / double(d.pixels));
#pragma omp parallel for schedule(static) if (d.images * d.pixels * d.ch > kMinParallelElements)
  for (int64_t r = 0; r < d.images * d.pixels; ++r) {
    const T* g = gy + (r / d.pixels) * d.ch;
    for (int64_t c = 0; c < d.ch; ++c) gx[r * d.ch + c] = g[c] * inv;
  }
}

// y[n,p,c] = x[n,p,c] * s[n,c]; also gx = gy * s in the backward.
template <class T>
void scale_rows(const T* x, const T* s, ImageDims d, T* y) {
#pragma omp parallel for schedule(static) if (d.images * d.pixels * d.ch > kMinParallelElements)
  for (int64_t r = 0; r < d.images * d.pixels; ++r) {
    const T* sr = s + (r / d.pixels) * d.ch;
    for (int64_t c = 0; c < d.ch; ++c) y[r * d.ch + c] = x[r * d.ch + c] * sr[c];
  }
}

template <class T>
void scale_grad(const T* gy, const T* x, ImageDims d, T* gs) {
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < d.images; ++n) {
    std::vector<double> acc(size_t(d.ch), 0.0);
    const int64_t base = n * d.pixels * d.ch;
    for (int64_t p = 0; p < d.pixels; ++p)
      for (int64_t c = 0; c < d.ch; ++c) acc[size_t(c)] += double(gy[base + p * d.ch + c]) * double(x[base + p * d.ch + c]);
    for (int64_t c = 0; c < d.ch; ++c) gs[n * d.ch + c] = T(acc[size_t(c)]);
  }
}

}  // namespace

void global_avg_pool_forward_cpu(const Tensor& x, Tensor& y) {
  MTINET_FLOAT_TYPES(x.dtype(), T, avg_pool(x.data<T>(), image_dims(x), y.data<T>()));
}

void global_avg_pool_backward_cpu(const Tensor& gy, Tensor& gx) {
  MTINET_FLOAT_TYPES(gy.dtype(), T, avg_pool_backward(gy.data<T>(), image_dims(gx), gx.data<T>()));
}

void channel_scale_forward_cpu(const Tensor& x, const Tensor& s, Tensor& y) {
  MTINET_FLOAT_TYPES(x.dtype(), T, scale_rows(x.data<T>(), s.data<T>(), image_dims(x), y.data<T>()));
}

void channel_scale_backward_cpu(const Tensor& gy, const Tensor& x, const Tensor& s, Tensor& gx, Tensor& gs) {
  MTINET_FLOAT_TYPES(x.dtype(), T, {
    if (gx.defined()) scale_rows(gy.data<T>(), s.data<T>(), image_dims(x), gx.data<T>());
    if (gs.defined()) scale_grad(gy.data<T>(), x.data<T>(), image_dims(x), gs.data<T>());
  });
}

}  // namespace mtinet::kernels
