// Convolution forward, version 3: register blocking and vectorised loads.
//
// What changed from version 2:
// - Each thread computes a 4x4 block of outputs (4 pixels x 4 output channels) instead of one: a block of 256
//   threads covers a 64x64 tile of Y, with a K step of 16.
// - In the inner loop a thread loads 4 values of A and 4 of W from shared memory (two float4 loads) and performs
//   4x4 = 16 FMAs with them: 8 FMAs per shared-memory load instead of 1/2. The 16 accumulators live in registers.
// - Global loads fetch 4 consecutive k at once (float4, conv_common.cuh) when cin % 4 == 0.
// - Tiles are stored k-major (As[k][pixel], Bs[k][channel]) so that a thread's 4 pixels (or channels) for one k are
//   adjacent: one float4 read from shared memory.
//
// Why it is faster: arithmetic intensity per shared-memory byte goes up 16x, and the bigger tile (64x64 against
// 16x16) reuses every global element 64 times. What still limits it: at MTI-Net's narrow layers (18 or 36 output
// channels) most of the 64-wide channel tile is padding, and the FMA units run at the f32 rate: the tensor cores
// of version 4 do 8-16x more math per cycle.
#include "core/cuda_runtime.h"
#include "dev/kernels/conv_common.cuh"
#include "dev/kernels/versions.cuh"

namespace devk {
namespace {

constexpr int kBM = 64, kBN = 64, kBK = 16;  // block tile: pixels x channels x k
constexpr int kThreads = 256;                // 16 x 16 threads, 4x4 outputs each
constexpr int kPad = 4;                      // keeps rows 16-byte aligned; spreads the transposed stores' banks

__global__ void __launch_bounds__(kThreads)
conv_forward3_kernel(ConvProblem p, const float* __restrict__ x, const float* __restrict__ w,
                     float* __restrict__ y, bool vec) {
  __shared__ __align__(16) float As[kBK][kBM + kPad];
  __shared__ __align__(16) float Bs[kBK][kBN + kPad];

  const int t = threadIdx.x;
  // Loading role: thread t fetches 4 consecutive k (quad q) of tile row r, for A and for W.
  const int r = t / 4, q = (t % 4) * 4;
  const int64_t m_load = int64_t(blockIdx.y) * kBM + r;
  const bool m_ok = m_load < p.M();
  const PixelOrigin o = pixel_origin(p, m_ok ? m_load : 0);  // decoded once, reused for every K step
  const int co_load = blockIdx.x * kBN + r;
  // Computing role: thread (ty, tx) owns pixels ty*4..+3 and channels tx*4..+3 of the tile.
  const int ty = t / 16, tx = t % 16;

  float acc[4][4] = {};
  const int K = p.K();
  for (int k0 = 0; k0 < K; k0 += kBK) {
    const float4 a = load_a_quad(p, x, m_ok, o, k0 + q, vec);
    const float4 b = load_b_quad(p, w, co_load, k0 + q, vec);
    As[q + 0][r] = a.x; As[q + 1][r] = a.y; As[q + 2][r] = a.z; As[q + 3][r] = a.w;
    Bs[q + 0][r] = b.x; Bs[q + 1][r] = b.y; Bs[q + 2][r] = b.z; Bs[q + 3][r] = b.w;
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kBK; ++kk) {
      const float4 av = *reinterpret_cast<const float4*>(&As[kk][ty * 4]);
      const float4 bv = *reinterpret_cast<const float4*>(&Bs[kk][tx * 4]);
      const float ar[4] = {av.x, av.y, av.z, av.w};
      const float br[4] = {bv.x, bv.y, bv.z, bv.w};
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] += ar[i] * br[j];
    }
    __syncthreads();
  }

#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int64_t m = int64_t(blockIdx.y) * kBM + ty * 4 + i;
    if (m >= p.M()) break;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int co = blockIdx.x * kBN + tx * 4 + j;
      if (co < p.cout) y[m * p.cout + co] = acc[i][j];
    }
  }
}

}  // namespace

void conv_forward3(const ConvProblem& p, const float* x, const float* w, float* y, cudaStream_t stream) {
  const dim3 blocks(unsigned((p.cout + kBN - 1) / kBN), unsigned((p.M() + kBM - 1) / kBM));
  conv_forward3_kernel<<<blocks, kThreads, 0, stream>>>(p, x, w, y, conv_vectorisable(p));
  MTINET_CUDA_LAUNCH_CHECK("conv_forward3");
}

}  // namespace devk
