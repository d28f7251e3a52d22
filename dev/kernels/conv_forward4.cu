// Convolution forward, version 4: tensor cores through WMMA, in TF32.
//
// What changed from version 3: the 64x64 block tile is computed by 4 warps, each owning a 32x32 quarter as 2x2
// WMMA fragments of 16x16. Per step of 8 in k, a warp loads its A and W fragments from shared memory and issues
// four mma_sync: each is a 16x16x8 matrix product done by the tensor cores in a few instructions, where version 3
// needed 16x16x8 = 2048 scalar FMAs spread over its threads.
// - Operands are rounded to TF32 (10-bit mantissa, f32 range), products are accumulated in f32: the same numerics
//   as cuDNN and PyTorch with TF32 enabled (mtinet's default, MTINET_TF32=0 turns it off), about 1e-3 relative.
// - Tiles are stored as the fragments want them, k contiguous: As[pixel][k] (A row-major) and Bs[channel][k]
//   (W as a column-major K x Cout matrix), which is also the order the global float4 loads deliver, so the
//   shared-memory stores are plain float4 stores (no transpose as in version 3).
// - The accumulators go through shared memory (Cs) on the way out, so the edge tiles (M or Cout not multiples
//   of 64) are written with ordinary bounds checks.
//
// Why it is faster: an H100/H200 SM does about 8x more TF32 tensor-core math per cycle than f32 FMA math. What
// still limits it (the next versions one could write): the global loads are not overlapped with the math
// (double buffering with cp.async), the narrow channel counts waste tile width, and bf16 would double the rate
// and halve the bytes again.
#include <mma.h>

#include "core/cuda_runtime.h"
#include "dev/kernels/conv_common.cuh"
#include "dev/kernels/versions.cuh"

namespace devk {
namespace {

using namespace nvcuda;

constexpr int kBM = 64, kBN = 64, kBK = 16;
constexpr int kThreads = 128;  // 4 warps in a 2x2 grid, 32x32 outputs each
constexpr int kLdAB = kBK + 4;  // leading dimension of As/Bs: a multiple of 4 floats, as WMMA requires for f32
constexpr int kLdC = kBN + 4;

__global__ void __launch_bounds__(kThreads)
conv_forward4_kernel(ConvProblem p, const float* __restrict__ x, const float* __restrict__ w,
                     float* __restrict__ y, bool vec) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800  // TF32 WMMA needs Ampere or newer
  __shared__ __align__(32) float As[kBM][kLdAB];  // WMMA fragment pointers must be 32-byte aligned
  __shared__ __align__(32) float Bs[kBN][kLdAB];
  __shared__ __align__(32) float Cs[kBM][kLdC];

  const int t = threadIdx.x;
  const int warp = t / 32;
  const int wy = warp / 2, wx = warp % 2;  // this warp's 32x32 quarter of the tile

  // Loading role: 64 rows x 4 quads = 256 quads per operand, two per thread (quads t and t + 128).
  int r[2], q[2];
  bool m_ok[2];
  PixelOrigin o[2];
#pragma unroll
  for (int s = 0; s < 2; ++s) {
    const int qi = t + s * kThreads;
    r[s] = qi / 4;
    q[s] = (qi % 4) * 4;
    const int64_t m = int64_t(blockIdx.y) * kBM + r[s];
    m_ok[s] = m < p.M();
    o[s] = pixel_origin(p, m_ok[s] ? m : 0);
  }

  wmma::fragment<wmma::accumulator, 16, 16, 8, float> c[2][2];
#pragma unroll
  for (int i = 0; i < 2; ++i)
#pragma unroll
    for (int j = 0; j < 2; ++j) wmma::fill_fragment(c[i][j], 0.f);

  const int K = p.K();
  for (int k0 = 0; k0 < K; k0 += kBK) {
#pragma unroll
    for (int s = 0; s < 2; ++s) {
      *reinterpret_cast<float4*>(&As[r[s]][q[s]]) = load_a_quad(p, x, m_ok[s], o[s], k0 + q[s], vec);
      *reinterpret_cast<float4*>(&Bs[r[s]][q[s]]) = load_b_quad(p, w, blockIdx.x * kBN + r[s], k0 + q[s], vec);
    }
    __syncthreads();
#pragma unroll
    for (int ks = 0; ks < kBK; ks += 8) {
      wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::row_major> a[2];
      wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::col_major> b[2];
#pragma unroll
      for (int i = 0; i < 2; ++i) {
        wmma::load_matrix_sync(a[i], &As[wy * 32 + i * 16][ks], kLdAB);
        wmma::load_matrix_sync(b[i], &Bs[wx * 32 + i * 16][ks], kLdAB);
        // The fragments hold f32; the tensor cores read TF32, so round each element explicitly.
#pragma unroll
        for (int e = 0; e < a[i].num_elements; ++e) a[i].x[e] = wmma::__float_to_tf32(a[i].x[e]);
#pragma unroll
        for (int e = 0; e < b[i].num_elements; ++e) b[i].x[e] = wmma::__float_to_tf32(b[i].x[e]);
      }
#pragma unroll
      for (int i = 0; i < 2; ++i)
#pragma unroll
        for (int j = 0; j < 2; ++j) wmma::mma_sync(c[i][j], a[i], b[j], c[i][j]);
    }
    __syncthreads();
  }

#pragma unroll
  for (int i = 0; i < 2; ++i)
#pragma unroll
    for (int j = 0; j < 2; ++j)
      wmma::store_matrix_sync(&Cs[wy * 32 + i * 16][wx * 32 + j * 16], c[i][j], kLdC, wmma::mem_row_major);
  __syncthreads();
  for (int e = t; e < kBM * kBN; e += kThreads) {  // consecutive threads: consecutive channels (coalesced)
    const int row = e / kBN, col = e % kBN;
    const int64_t m = int64_t(blockIdx.y) * kBM + row;
    const int co = blockIdx.x * kBN + col;
    if (m < p.M() && co < p.cout) y[m * p.cout + co] = Cs[row][col];
  }
#else
  __trap();
#endif
}

}  // namespace

void conv_forward4(const ConvProblem& p, const float* x, const float* w, float* y, cudaStream_t stream) {
  const dim3 blocks(unsigned((p.cout + kBN - 1) / kBN), unsigned((p.M() + kBM - 1) / kBM));
  conv_forward4_kernel<<<blocks, kThreads, 0, stream>>>(p, x, w, y, conv_vectorisable(p));
  MTINET_CUDA_LAUNCH_CHECK("conv_forward4");
}

}  // namespace devk
