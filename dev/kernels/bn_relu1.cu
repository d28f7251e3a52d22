// BatchNorm (training mode) + ReLU, version 1: naive two-pass.
//
// Kernel 1: one thread per channel walks all rows twice, first for the mean, then for the variance around it
// (two passes: exact, and the textbook definition), and folds gamma, beta, mean and var into scale and shift.
// Kernel 2: one thread per element applies y = max(0, x*scale + shift).
//
// Why it is slow: kernel 1 has only C threads (18 to 270 at MTI-Net's shapes) on a GPU that wants ~100k threads in
// flight to hide memory latency; each thread issues rows() dependent loads one after the other. At 8x120x160x18 it
// reads 2 x 11 MB with 18 threads: a few GB/s where the card moves ~4 TB/s. Kernel 2 is fine (coalesced, one
// element per thread); it only re-reads the per-channel numbers for every element.
#include <cmath>

#include "core/cuda_runtime.h"
#include "dev/kernels/versions.cuh"

namespace devk {
namespace {

__global__ void bn_stats1_kernel(BnProblem p, const float* __restrict__ x, const float* __restrict__ gamma,
                                 const float* __restrict__ beta, float* mean, float* var, float* scale,
                                 float* shift) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= p.c) return;
  const int64_t rows = p.rows();
  float s = 0.f;
  for (int64_t r = 0; r < rows; ++r) s += x[r * p.c + c];  // adjacent threads: adjacent channels (coalesced)
  const float mu = s / float(rows);
  float ss = 0.f;
  for (int64_t r = 0; r < rows; ++r) {
    const float d = x[r * p.c + c] - mu;
    ss += d * d;
  }
  const float v = ss / float(rows);
  mean[c] = mu;
  var[c] = v;
  const float sc = gamma[c] * rsqrtf(v + p.eps);
  scale[c] = sc;
  shift[c] = beta[c] - mu * sc;
}

__global__ void bn_apply_scalar_kernel(BnProblem p, const float* __restrict__ x,
                                       const float* __restrict__ scale, const float* __restrict__ shift,
                                       float* __restrict__ y) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= p.numel()) return;
  const int c = int(i % p.c);
  y[i] = bn_relu_apply(x[i], scale[c], shift[c]);
}

}  // namespace

void bn_apply_scalar(const BnProblem& p, const float* x, const float* scale, const float* shift, float* y,
                     cudaStream_t stream) {
  const int threads = 256;
  const unsigned blocks = unsigned((p.numel() + threads - 1) / threads);
  bn_apply_scalar_kernel<<<blocks, threads, 0, stream>>>(p, x, scale, shift, y);
  MTINET_CUDA_LAUNCH_CHECK("bn_apply_scalar");
}

void bn_relu1(const BnProblem& p, const float* x, const float* gamma, const float* beta, float* y, float* mean,
              float* var, float* scratch, cudaStream_t stream) {
  float* scale = scratch;
  float* shift = scratch + p.c;
  bn_stats1_kernel<<<unsigned((p.c + 31) / 32), 32, 0, stream>>>(p, x, gamma, beta, mean, var, scale, shift);
  MTINET_CUDA_LAUNCH_CHECK("bn_stats1");
  bn_apply_scalar(p, x, scale, shift, y, stream);
}

}  // namespace devk
