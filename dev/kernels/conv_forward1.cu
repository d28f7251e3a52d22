// Convolution forward, version 1: naive. One thread per output element y[m][co], looping over the whole receptive
// field (K = kh*kw*cin products) straight from global memory.
//
// Why it is slow: every product needs two global loads (one of x, one of w) for one FMA. Neighbouring threads in a
// warp hold neighbouring output channels co of the same pixel, so they read the same x (one broadcast load) but
// weights K floats apart: 32 separate memory transactions per warp per k. Nothing is reused from registers or
// shared memory, so the kernel runs at the speed of the L1/L2 caches, not of the FMA units.
#include "core/cuda_runtime.h"
#include "dev/kernels/versions.cuh"

namespace devk {
namespace {

__global__ void conv_forward1_kernel(ConvProblem p, const float* __restrict__ x, const float* __restrict__ w,
                                     float* __restrict__ y) {
  const int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= p.M() * p.cout) return;
  const int co = int(idx % p.cout);  // adjacent threads: adjacent output channels, so the y store is coalesced
  const int64_t m = idx / p.cout;
  const PixelOrigin o = pixel_origin(p, m);
  const int K = p.K();
  const float* wrow = w + int64_t(co) * K;  // OHWI: one output channel's K weights are contiguous
  float acc = 0.f;
  for (int k = 0; k < K; ++k) {
    const int64_t xi = im2col_offset(p, o, k);
    if (xi >= 0) acc += x[xi] * wrow[k];
  }
  y[idx] = acc;
}

}  // namespace

void conv_forward1(const ConvProblem& p, const float* x, const float* w, float* y, cudaStream_t stream) {
  const int threads = 256;
  const int64_t blocks = (p.M() * p.cout + threads - 1) / threads;
  conv_forward1_kernel<<<unsigned(blocks), threads, 0, stream>>>(p, x, w, y);
  MTINET_CUDA_LAUNCH_CHECK("conv_forward1");
}

}  // namespace devk
