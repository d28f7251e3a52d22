// Tile loaders shared by convolution versions 3 and 4: four consecutive k of one GEMM row at a time.
//
// When cin is a multiple of 4, four consecutive k = (tap, ci..ci+3) are four adjacent channels of one input pixel:
// one aligned 16-byte load (float4) fetches them, a quarter of the load instructions of version 2. The same holds
// for four consecutive weights of one filter (OHWI rows are K = kh*kw*cin long, a multiple of 4 then).
// MTI-Net's 18- and 54-channel layers (and the 270-channel head) are not multiples of 4: there the loaders fall
// back to four scalar gathers. cuDNN has the same cliff (its fastest NHWC kernels want multiples of 8).
#pragma once
#include "dev/kernels/problems.h"

namespace devk {

// A[m][k..k+3] for the pixel with origin o (zeros in the padding, past K, or when the pixel is past M).
__device__ __forceinline__ float4 load_a_quad(const ConvProblem& p, const float* __restrict__ x, bool m_ok,
                                              const PixelOrigin& o, int k, bool vec) {
  float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
  if (!m_ok) return v;
  const int K = p.K();
  if (vec) {
    if (k < K) {  // K % 4 == 0, so k+3 < K too; and ci % 4 == 0, so the address is 16-byte aligned
      const int64_t xi = im2col_offset(p, o, k);
      if (xi >= 0) v = *reinterpret_cast<const float4*>(x + xi);
    }
    return v;
  }
  float e[4];
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int64_t xi = k + i < K ? im2col_offset(p, o, k + i) : -1;
    e[i] = xi >= 0 ? x[xi] : 0.f;
  }
  return make_float4(e[0], e[1], e[2], e[3]);
}

// W[co][k..k+3] (zeros past cout or K).
__device__ __forceinline__ float4 load_b_quad(const ConvProblem& p, const float* __restrict__ w, int co, int k,
                                              bool vec) {
  float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
  const int K = p.K();
  if (co >= p.cout) return v;
  const float* row = w + int64_t(co) * K;
  if (vec) {
    if (k < K) v = *reinterpret_cast<const float4*>(row + k);
    return v;
  }
  float e[4];
#pragma unroll
  for (int i = 0; i < 4; ++i) e[i] = k + i < K ? row[k + i] : 0.f;
  return make_float4(e[0], e[1], e[2], e[3]);
}

// The float4 path is taken for the whole launch or not at all (a uniform branch: no divergence).
inline bool conv_vectorisable(const ConvProblem& p) { return p.cin % 4 == 0; }

}  // namespace devk
