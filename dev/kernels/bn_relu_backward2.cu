// BatchNorm (training mode) + ReLU backward, version 2: parallel double-precision sums, two launches, float4.
//
// What changed from version 1, using what the forward versions 2 and 3 introduced:
// - The two sums run over kBnChunks x ceil(C/32) blocks of 32 channels x 8 row lanes (as the forward statistics,
//   bn_common.cuh), with every term and partial in double: the sums cancel to a small fraction of their terms, and
//   double costs nothing measurable in a kernel that waits on memory.
// - The block that finishes last (threadFenceReduction, as bn_relu3.cu) merges the partials in a fixed order
//   (deterministic bits), writes dgamma and dbeta, and folds the input gradient into k, a, b per channel.
// - The input gradient reads x, y and gy and writes gx as float4, with k, a, b staged in shared memory.
// The ReLU costs nothing extra: its mask is a select on y inside both passes, so no separate ReLU-backward kernel
// writes and re-reads a masked copy of gy (mtinet today runs relu_backward, then the BatchNorm reduction, then the
// input gradient).
#include "core/cuda_runtime.h"
#include "dev/kernels/bn_common.cuh"
#include "dev/kernels/versions.cuh"

namespace devk {
namespace {

struct BackwardScratch {
  double* sum_g;     // [kBnChunks][c]
  double* sum_gxhat;
  BnBackwardCoefs* coefs;  // [c]
  unsigned* done;          // [(c+31)/32]
  __host__ __device__ BackwardScratch(float* s, int c) {
    const size_t plane = size_t(kBnChunks) * c;
    sum_g = reinterpret_cast<double*>(s);
    sum_gxhat = sum_g + plane;
    coefs = reinterpret_cast<BnBackwardCoefs*>(s + 4 * plane);
    done = reinterpret_cast<unsigned*>(s + 4 * plane + 3 * size_t(c));
  }
};

// Adds the 8 row lanes' sums of each channel, in order; valid in threads with threadIdx.y == 0.
__device__ __forceinline__ void sum_row_lanes(double& a, double& b) {
  __shared__ double lanes[2][kBnLanesY][kBnLanesX];
  const int tx = threadIdx.x, ty = threadIdx.y;
  lanes[0][ty][tx] = a;
  lanes[1][ty][tx] = b;
  __syncthreads();
  if (ty == 0)
    for (int l = 1; l < kBnLanesY; ++l) {
      a += lanes[0][l][tx];
      b += lanes[1][l][tx];
    }
  __syncthreads();
}

__global__ void __launch_bounds__(kBnLanesX * kBnLanesY)
bn_backward_reduce2_kernel(BnProblem p, const float* __restrict__ x, const float* __restrict__ y,
                           const float* __restrict__ gy, const float* __restrict__ gamma,
                           const float* __restrict__ mean, const float* __restrict__ var, float* dgamma,
                           float* dbeta, float* scratch) {
  const BackwardScratch s(scratch, p.c);
  const int c = blockIdx.x * kBnLanesX + threadIdx.x;
  const int chunk = blockIdx.y;
  double sg = 0.0, sgx = 0.0;
  if (c < p.c) {
    const float mu = mean[c], invstd = rsqrtf(var[c] + p.eps);
    for (int64_t r = int64_t(chunk) * kBnLanesY + threadIdx.y; r < p.rows(); r += int64_t(kBnChunks) * kBnLanesY) {
      const int64_t i = r * p.c + c;
      const double g = y[i] > 0.f ? gy[i] : 0.f;
      sg += g;
      sgx += g * double((x[i] - mu) * invstd);
    }
  }
  sum_row_lanes(sg, sgx);
  if (threadIdx.y == 0 && c < p.c) {
    s.sum_g[size_t(chunk) * p.c + c] = sg;
    s.sum_gxhat[size_t(chunk) * p.c + c] = sgx;
  }

  __shared__ bool is_last;
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0 && threadIdx.y == 0)
    is_last = atomicAdd(&s.done[blockIdx.x], 1u) == unsigned(kBnChunks - 1);
  __syncthreads();
  if (!is_last) return;

  constexpr int kPerLane = kBnChunks / kBnLanesY;
  sg = sgx = 0.0;
  if (c < p.c)
    for (int k = threadIdx.y * kPerLane; k < (threadIdx.y + 1) * kPerLane; ++k) {
      sg += __ldcg(s.sum_g + size_t(k) * p.c + c);
      sgx += __ldcg(s.sum_gxhat + size_t(k) * p.c + c);
    }
  sum_row_lanes(sg, sgx);
  if (threadIdx.y == 0 && c < p.c) {
    dbeta[c] = float(sg);
    dgamma[c] = float(sgx);
    s.coefs[c] = bn_backward_coefs(gamma[c], mean[c], var[c], p.eps, sgx, sg, double(p.rows()));
  }
  if (threadIdx.x == 0 && threadIdx.y == 0) s.done[blockIdx.x] = 0;
}

__global__ void bn_backward_input2_kernel(BnProblem p, const float* __restrict__ x, const float* __restrict__ y,
                                          const float* __restrict__ gy, const BnBackwardCoefs* __restrict__ coefs,
                                          float* __restrict__ gx) {
  extern __shared__ BnBackwardCoefs folded[];
  for (int c = threadIdx.x; c < p.c; c += blockDim.x) folded[c] = coefs[c];
  __syncthreads();
  const int64_t n = p.numel(), n4 = n / 4;
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  const int64_t first = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  for (int64_t i = first; i < n4; i += stride) {
    const float4 xv = reinterpret_cast<const float4*>(x)[i];
    const float4 yv = reinterpret_cast<const float4*>(y)[i];
    const float4 gv = reinterpret_cast<const float4*>(gy)[i];
    float4 out;
    int c = int((i * 4) % p.c);
    out.x = bn_relu_grad(xv.x, yv.x, gv.x, folded[c]);
    if (++c == p.c) c = 0;
    out.y = bn_relu_grad(xv.y, yv.y, gv.y, folded[c]);
    if (++c == p.c) c = 0;
    out.z = bn_relu_grad(xv.z, yv.z, gv.z, folded[c]);
    if (++c == p.c) c = 0;
    out.w = bn_relu_grad(xv.w, yv.w, gv.w, folded[c]);
    reinterpret_cast<float4*>(gx)[i] = out;
  }
  for (int64_t i = n4 * 4 + first; i < n; i += stride) gx[i] = bn_relu_grad(x[i], y[i], gy[i], folded[i % p.c]);
}

}  // namespace

void bn_relu_backward2(const BnProblem& p, const float* x, const float* y, const float* gy, const float* gamma,
                       const float* mean, const float* var, float* gx, float* dgamma, float* dbeta, float* scratch,
                       cudaStream_t stream) {
  const dim3 blocks(unsigned((p.c + kBnLanesX - 1) / kBnLanesX), kBnChunks);
  bn_backward_reduce2_kernel<<<blocks, dim3(kBnLanesX, kBnLanesY), 0, stream>>>(p, x, y, gy, gamma, mean, var,
                                                                                dgamma, dbeta, scratch);
  MTINET_CUDA_LAUNCH_CHECK("bn_backward_reduce2");
  const int threads = 256;
  int64_t apply_blocks = (p.numel() / 4 + threads - 1) / threads;
  if (apply_blocks > 2048) apply_blocks = 2048;
  if (apply_blocks < 1) apply_blocks = 1;
  const size_t smem = size_t(p.c) * sizeof(BnBackwardCoefs);
  bn_backward_input2_kernel<<<unsigned(apply_blocks), threads, smem, stream>>>(p, x, y, gy,
                                                                               BackwardScratch(scratch, p.c).coefs, gx);
  MTINET_CUDA_LAUNCH_CHECK("bn_backward_input2");
}

}  // namespace devk
