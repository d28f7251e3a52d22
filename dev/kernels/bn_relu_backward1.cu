// BatchNorm (training mode) + ReLU backward, version 1: naive.
//
// Kernel 1: one thread per channel sums g = gy*(y > 0) and g*xhat over all rows (f32, one after the other), giving
// dbeta and dgamma, and folds everything the input gradient needs into three numbers per channel (k, a, b in
// problems.h). Kernel 2: one thread per element, gx = k*g + a*x + b.
//
// Why it is slow: as in the forward's version 1, C threads do all the reading. Why it can be wrong: after a
// training-mode BatchNorm, sum(g) and sum(g*xhat) are small differences of large terms (the forward removed the
// mean and the scale of x), and an f32 running sum over 150k rows keeps only a few correct digits of them. mtinet's
// own kernels sum these in double for that reason (kernels/batch_norm/batch_norm.cu); version 2 does too.
#include "core/cuda_runtime.h"
#include "dev/kernels/versions.cuh"

namespace devk {
namespace {

__global__ void bn_backward_reduce1_kernel(BnProblem p, const float* __restrict__ x, const float* __restrict__ y,
                                           const float* __restrict__ gy, const float* __restrict__ gamma,
                                           const float* __restrict__ mean, const float* __restrict__ var,
                                           float* dgamma, float* dbeta, BnBackwardCoefs* coefs) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= p.c) return;
  const float mu = mean[c], invstd = rsqrtf(var[c] + p.eps);
  float sg = 0.f, sgx = 0.f;
  for (int64_t r = 0; r < p.rows(); ++r) {
    const int64_t i = r * p.c + c;
    const float g = y[i] > 0.f ? gy[i] : 0.f;
    sg += g;
    sgx += g * (x[i] - mu) * invstd;
  }
  dbeta[c] = sg;
  dgamma[c] = sgx;
  coefs[c] = bn_backward_coefs(gamma[c], mu, var[c], p.eps, sgx, sg, double(p.rows()));
}

__global__ void bn_backward_input1_kernel(BnProblem p, const float* __restrict__ x, const float* __restrict__ y,
                                          const float* __restrict__ gy, const BnBackwardCoefs* __restrict__ coefs,
                                          float* __restrict__ gx) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= p.numel()) return;
  gx[i] = bn_relu_grad(x[i], y[i], gy[i], coefs[i % p.c]);
}

}  // namespace

void bn_relu_backward1(const BnProblem& p, const float* x, const float* y, const float* gy, const float* gamma,
                       const float* mean, const float* var, float* gx, float* dgamma, float* dbeta, float* scratch,
                       cudaStream_t stream) {
  BnBackwardCoefs* coefs = reinterpret_cast<BnBackwardCoefs*>(scratch);
  bn_backward_reduce1_kernel<<<unsigned((p.c + 31) / 32), 32, 0, stream>>>(p, x, y, gy, gamma, mean, var, dgamma,
                                                                           dbeta, coefs);
  MTINET_CUDA_LAUNCH_CHECK("bn_backward_reduce1");
  const int threads = 256;
  const unsigned blocks = unsigned((p.numel() + threads - 1) / threads);
  bn_backward_input1_kernel<<<blocks, threads, 0, stream>>>(p, x, y, gy, coefs, gx);
  MTINET_CUDA_LAUNCH_CHECK("bn_backward_input1");
}

}  // namespace devk
