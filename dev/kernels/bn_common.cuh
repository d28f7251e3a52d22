// The parallel statistics shared by BatchNorm versions 2 and 3.
//
// Blocks of 32 x 8 threads: threadIdx.x picks one of 32 adjacent channels (a warp reads 32 adjacent floats of a
// row: coalesced), threadIdx.y one of 8 row lanes. The grid is (channel groups of 32) x kBnChunks: block
// (gx, chunk) folds rows chunk*8 + ty, stepping by kBnChunks*8, into one Welford state per thread, merges its 8 row
// lanes in shared memory, and writes one partial per channel. Merging the kBnChunks partials of a channel is the
// finishing step. Every merge happens in a fixed order: the statistics are the same bits on every run (no float
// atomics).
#pragma once
#include "dev/kernels/problems.h"
#include "dev/kernels/versions.cuh"

namespace devk {

constexpr int kBnLanesX = 32, kBnLanesY = 8;

// Where the pieces of the scratch buffer are (layout in versions.cuh).
struct BnScratch {
  float* count;  // [kBnChunks][c] partial states
  float* mean;
  float* m2;
  float* scale;  // [c]
  float* shift;  // [c]
  unsigned* done;  // [(c+31)/32] blocks finished per channel group (version 3)
  __host__ __device__ BnScratch(float* s, int c) {
    const size_t plane = size_t(kBnChunks) * c;
    count = s;
    mean = s + plane;
    m2 = s + 2 * plane;
    scale = s + 3 * plane;
    shift = scale + c;
    done = reinterpret_cast<unsigned*>(shift + c);
  }
};

// Merges the Welford states of the block's 8 row lanes, per channel, in order; the result is valid in the threads
// with threadIdx.y == 0. Every thread of the block must call it.
__device__ __forceinline__ Welford bn_merge_row_lanes(Welford st) {
  __shared__ float lanes[3][kBnLanesY][kBnLanesX];  // count, mean, M2 (plain floats: __shared__ takes no constructors)
  const int tx = threadIdx.x, ty = threadIdx.y;
  lanes[0][ty][tx] = st.count;
  lanes[1][ty][tx] = st.mean;
  lanes[2][ty][tx] = st.m2;
  __syncthreads();
  if (ty == 0)
    for (int l = 1; l < kBnLanesY; ++l) {
      Welford o;
      o.count = lanes[0][l][tx];
      o.mean = lanes[1][l][tx];
      o.m2 = lanes[2][l][tx];
      st.merge(o);
    }
  __syncthreads();  // lanes may be reused by a later call
  return st;
}

// This block's partial statistics for its 32 channels (called by all 256 threads of the block).
__device__ __forceinline__ void bn_block_partial(const BnProblem& p, const float* __restrict__ x, BnScratch s) {
  const int c = blockIdx.x * kBnLanesX + threadIdx.x;
  const int chunk = blockIdx.y;
  Welford st;
  if (c < p.c)
    for (int64_t r = int64_t(chunk) * kBnLanesY + threadIdx.y; r < p.rows(); r += int64_t(kBnChunks) * kBnLanesY)
      st.add(x[r * p.c + c]);
  st = bn_merge_row_lanes(st);
  if (threadIdx.y == 0 && c < p.c) {
    const size_t at = size_t(chunk) * p.c + c;
    s.count[at] = st.count;
    s.mean[at] = st.mean;
    s.m2[at] = st.m2;
  }
}

// Merges the partials of chunks [from, to) of channel c, in order. __ldcg reads through L2 only: in version 3
// other blocks of the same launch wrote these, and L1 is not coherent between SMs.
__device__ __forceinline__ Welford bn_merge_partials(const BnProblem& p, BnScratch s, int c, int from, int to) {
  Welford st;
  for (int k = from; k < to; ++k) {
    const size_t at = size_t(k) * p.c + c;
    Welford o;
    o.count = __ldcg(s.count + at);
    o.mean = __ldcg(s.mean + at);
    o.m2 = __ldcg(s.m2 + at);
    st.merge(o);
  }
  return st;
}

// The channel's outputs from its merged state: mean, biased variance, and the folded scale and shift.
__device__ __forceinline__ void bn_finish_channel(const BnProblem& p, const Welford& st, int c,
                                                  const float* __restrict__ gamma, const float* __restrict__ beta,
                                                  float* mean, float* var, BnScratch s) {
  const float v = st.count > 0.f ? st.m2 / st.count : 0.f;
  mean[c] = st.mean;
  var[c] = v;
  const float sc = gamma[c] * rsqrtf(v + p.eps);
  s.scale[c] = sc;
  s.shift[c] = beta[c] - st.mean * sc;
}

}  // namespace devk
