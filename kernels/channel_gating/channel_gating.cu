// CUDA kernels for global average pooling and channel scaling (f32). The per-(image, channel) sums over H*W use one
// block per (image, 32 channels) with a fixed tree over its pixel lanes: deterministic, no float atomics.
#include <cstdint>

#include "core/cuda_runtime.h"
#include "kernels/channel_gating/channel_gating.h"

namespace mtinet::kernels {

namespace {

constexpr int kLanesX = 32;  // channels per block: a warp reads 32 adjacent channels of a pixel
constexpr int kLanesY = 16;  // pixel lanes per block

void require_f32(const char* fn, const Tensor& x) {
  MTINET_CHECK(x.dtype() == DType::F32, fn, " on CUDA supports f32 only, got ", x.describe());
}

struct TermX {
  const float* x;
  __device__ float operator()(int64_t i) const { return x[i]; }
};
struct TermGyX {
  const float* gy;
  const float* x;
  __device__ float operator()(int64_t i) const { return gy[i] * x[i]; }
};

// out[n*ch + c] = scale * sum over the image's pixels of term(element). Grid (images, ceil(ch/32)).
template <class Term>
__global__ void image_channel_sum_kernel(Term term, int64_t pixels, int64_t ch, float scale, float* out) {
  __shared__ float lanes[kLanesY][kLanesX];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t n = blockIdx.x;
  const int64_t c = int64_t(blockIdx.y) * kLanesX + tx;
  float acc = 0.f;
  if (c < ch) {
    const int64_t base = n * pixels * ch + c;
    for (int64_t p = ty; p < pixels; p += kLanesY) acc += term(base + p * ch);
  }
  lanes[ty][tx] = acc;
  __syncthreads();
  for (int s = kLanesY / 2; s > 0; s /= 2) {
    if (ty < s) lanes[ty][tx] += lanes[ty + s][tx];
    __syncthreads();
  }
  if (ty == 0 && c < ch) out[n * ch + c] = lanes[0][tx] * scale;
}

template <class Term>
void image_channel_sum(const Term& term, int64_t images, int64_t pixels, int64_t ch, float scale, float* out) {
  if (images == 0 || ch == 0) return;
  dim3 grid(unsigned(images), unsigned((ch + kLanesX - 1) / kLanesX));
  image_channel_sum_kernel<<<grid, dim3(kLanesX, kLanesY), 0, cuda::stream()>>>(term, pixels, ch, scale, out);
  MTINET_CUDA_LAUNCH_CHECK("image_channel_sum_kernel");
}

// y[i] = x[i] * s[image, channel] for x {N, pixels, ch}, s {N, ch}; also the x-gradient gy * s.
__global__ void scale_kernel(const float* x, const float* s, int64_t n, int64_t pixels, int64_t ch, float* y) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t c = i % ch;
    int64_t image = i / (pixels * ch);
    y[i] = x[i] * s[image * ch + c];
  }
}

__global__ void broadcast_kernel(const float* gy, int64_t n, int64_t pixels, int64_t ch, float scale, float* gx) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t c = i % ch;
    int64_t image = i / (pixels * ch);
    gx[i] = gy[image * ch + c] * scale;
  }
}

}  // namespace

void global_avg_pool_forward_cuda(const Tensor& x, Tensor& y) {
  require_f32("global_avg_pool", x);
  const int64_t pixels = x.dim(1) * x.dim(2);
  image_channel_sum(TermX{x.data<float>()}, x.dim(0), pixels, x.dim(3), float(1.0 / double(pixels)),
                    y.data<float>());
}

void global_avg_pool_backward_cuda(const Tensor& gy, Tensor& gx) {
  require_f32("global_avg_pool backward", gy);
  const int64_t n = gx.numel(), pixels = gx.dim(1) * gx.dim(2);
  if (n == 0) return;
  broadcast_kernel<<<cuda::blocks_for(n), 256, 0, cuda::stream()>>>(gy.data<float>(), n, pixels, gx.dim(3),
                                                                    float(1.0 / double(pixels)), gx.data<float>());
  MTINET_CUDA_LAUNCH_CHECK("broadcast_kernel");
}

void channel_scale_forward_cuda(const Tensor& x, const Tensor& s, Tensor& y) {
  require_f32("channel_scale", x);
  const int64_t n = x.numel();
  if (n == 0) return;
  scale_kernel<<<cuda::blocks_for(n), 256, 0, cuda::stream()>>>(x.data<float>(), s.data<float>(), n,
                                                                x.dim(1) * x.dim(2), x.dim(3), y.data<float>());
  MTINET_CUDA_LAUNCH_CHECK("scale_kernel");
}

void channel_scale_backward_cuda(const Tensor& gy, const Tensor& x, const Tensor& s, Tensor& gx, Tensor& gs) {
  require_f32("channel_scale backward", x);
  const int64_t n = x.numel(), pixels = x.dim(1) * x.dim(2);
  if (gx.defined() && n > 0) {
    scale_kernel<<<cuda::blocks_for(n), 256, 0, cuda::stream()>>>(gy.data<float>(), s.data<float>(), n, pixels,
                                                                  x.dim(3), gx.data<float>());
    MTINET_CUDA_LAUNCH_CHECK("scale_kernel");
  }
  if (gs.defined())
    image_channel_sum(TermGyX{gy.data<float>(), x.data<float>()}, x.dim(0), pixels, x.dim(3), 1.f, gs.data<float>());
}

}  // namespace mtinet::kernels
