// Convolution forward, version 2: shared-memory tiling.
//
// What changed from version 1: a block of 16x16 threads computes a 16x16 tile of Y (16 pixels x 16 output
// channels). The K loop walks in steps of 16: the block first copies a 16x16 tile of A (the im2col gather) and a
// 16x16 tile of W into shared memory, one element per thread, then every thread reads its 16 products' operands
// from shared memory.
//
// Why it is faster: each element brought from global memory is now used 16 times (by the 16 threads of its tile
// row or column) instead of once, so global traffic drops 16x. The loads are also coalesced: the 16 threads of a
// row load 16 consecutive k of one pixel (consecutive input channels: contiguous in NHWC) or of one filter
// (contiguous in OHWI). What still limits it: every FMA needs two shared-memory loads, and shared memory is only
// a few times faster than L1; version 3 keeps operands in registers.
#include "core/cuda_runtime.h"
#include "dev/kernels/versions.cuh"

namespace devk {
namespace {

constexpr int kTile = 16;

__global__ void conv_forward2_kernel(ConvProblem p, const float* __restrict__ x, const float* __restrict__ w,
                                     float* __restrict__ y) {
  __shared__ float As[kTile][kTile];      // As[pixel][k]
  __shared__ float Bs[kTile][kTile + 1];  // Bs[channel][k]; +1 column: tx-strided reads hit 16 different banks

  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t m = int64_t(blockIdx.y) * kTile + ty;  // this thread's output pixel (also the A row it loads)
  const int co_load = blockIdx.x * kTile + ty;         // the W row (output channel) this thread loads
  const int co = blockIdx.x * kTile + tx;              // this thread's output channel
  const int K = p.K();
  const bool m_ok = m < p.M();
  const PixelOrigin o = pixel_origin(p, m_ok ? m : 0);

  float acc = 0.f;
  for (int k0 = 0; k0 < K; k0 += kTile) {
    const int k = k0 + tx;
    // Tile loads: one element each, zero outside the problem so the inner loop needs no bounds checks.
    float a = 0.f;
    if (m_ok && k < K) {
      const int64_t xi = im2col_offset(p, o, k);
      if (xi >= 0) a = x[xi];
    }
    As[ty][tx] = a;
    Bs[ty][tx] = (co_load < p.cout && k < K) ? w[int64_t(co_load) * K + k] : 0.f;
    __syncthreads();  // the tile is complete before anyone reads it
#pragma unroll
    for (int kk = 0; kk < kTile; ++kk) acc += As[ty][kk] * Bs[tx][kk];
    __syncthreads();  // everyone is done with the tile before it is overwritten
  }
  if (m_ok && co < p.cout) y[m * p.cout + co] = acc;
}

}  // namespace

void conv_forward2(const ConvProblem& p, const float* x, const float* w, float* y, cudaStream_t stream) {
  const dim3 threads(kTile, kTile);
  const dim3 blocks(unsigned((p.cout + kTile - 1) / kTile), unsigned((p.M() + kTile - 1) / kTile));
  conv_forward2_kernel<<<blocks, threads, 0, stream>>>(p, x, w, y);
  MTINET_CUDA_LAUNCH_CHECK("conv_forward2");
}

}  // namespace devk
