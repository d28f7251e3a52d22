// The numbered versions of both kernels, as the GPU runner (gpu_runner.cu) calls them. Every version launches on
// `stream` and leaves its results in the output pointers; none allocates.
#pragma once
#include <cuda_runtime.h>

#include "dev/kernels/problems.h"

namespace devk {

// y = conv(x, w), f32 in and out (versions 1-3 in exact f32 arithmetic, version 4 on TF32 tensor cores).
void conv_forward1(const ConvProblem& p, const float* x, const float* w, float* y, cudaStream_t stream);
void conv_forward2(const ConvProblem& p, const float* x, const float* w, float* y, cudaStream_t stream);
void conv_forward3(const ConvProblem& p, const float* x, const float* w, float* y, cudaStream_t stream);
void conv_forward4(const ConvProblem& p, const float* x, const float* w, float* y, cudaStream_t stream);

// y = relu(batchnorm_train(x)), plus the batch mean and biased variance per channel. scratch holds at least
// bn_scratch_floats(p) floats (per-block partial statistics, per-channel scale and shift).
void bn_relu1(const BnProblem& p, const float* x, const float* gamma, const float* beta, float* y, float* mean,
              float* var, float* scratch, cudaStream_t stream);
void bn_relu2(const BnProblem& p, const float* x, const float* gamma, const float* beta, float* y, float* mean,
              float* var, float* scratch, cudaStream_t stream);
void bn_relu3(const BnProblem& p, const float* x, const float* gamma, const float* beta, float* y, float* mean,
              float* var, float* scratch, cudaStream_t stream);

// The gradient of the above: gx, dgamma = sum(g*xhat), dbeta = sum(g) with g = gy where y > 0 (y: the forward's
// output, whose sign is the ReLU's mask). scratch holds at least bn_backward_scratch_floats(p) floats.
void bn_relu_backward1(const BnProblem& p, const float* x, const float* y, const float* gy, const float* gamma,
                       const float* mean, const float* var, float* gx, float* dgamma, float* dbeta, float* scratch,
                       cudaStream_t stream);
void bn_relu_backward2(const BnProblem& p, const float* x, const float* y, const float* gy, const float* gamma,
                       const float* mean, const float* var, float* gx, float* dgamma, float* dbeta, float* scratch,
                       cudaStream_t stream);

// Version 1's apply kernel (one thread per element: y = max(0, x*scale[c] + shift[c])), which version 2 reuses.
void bn_apply_scalar(const BnProblem& p, const float* x, const float* scale, const float* shift, float* y,
                     cudaStream_t stream);

// Row chunks of the parallel statistics (versions 2 and 3): enough blocks to fill the GPU, few enough partials
// that one thread per channel merges them quickly.
constexpr int kBnChunks = 512;
// Layout (bn_common.cuh): partial count, mean and M2 planes [kBnChunks][c], then scale[c] and shift[c], then one
// completion counter per 32 channels (version 3; the caller zeroes the scratch once, the kernel re-zeroes it).
inline size_t bn_scratch_floats(const BnProblem& p) {
  return size_t(kBnChunks) * p.c * 3 + size_t(p.c) * 2 + size_t(p.c + 31) / 32;
}

// Backward (bn_relu_backward2.cu): partial sums of g and g*xhat in double, [kBnChunks][c] each (8-byte aligned at
// the start), then k, a, b per channel, then the completion counters.
inline size_t bn_backward_scratch_floats(const BnProblem& p) {
  return size_t(kBnChunks) * p.c * 4 + size_t(p.c) * 3 + size_t(p.c + 31) / 32;
}

}  // namespace devk
