// CUDA kernels for the grouped softmax (f32): one thread per group of adjacent channels, running the same
// per-group math as the CPU loop (grouped_softmax_math.h). Groups are small (the number of tasks).
#include <cstdint>

#include "core/cuda_runtime.h"
#include "kernels/grouped_softmax/grouped_softmax.h"
#include "kernels/grouped_softmax/grouped_softmax_math.h"

namespace mtinet::kernels {

namespace {

void require_f32(const char* fn, const Tensor& x) {
  MTINET_CHECK(x.dtype() == DType::F32, fn, " on CUDA supports f32 only, got ", x.describe());
}

__global__ void grouped_softmax_forward_kernel(const float* x, int64_t groups, int64_t group, float* y) {
  for (int64_t g = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; g < groups; g += int64_t(gridDim.x) * blockDim.x)
    softmax_group_fwd(x + g * group, y + g * group, group);
}

__global__ void grouped_softmax_backward_kernel(const float* y, const float* gy, int64_t groups, int64_t group,
                                                float* gx) {
  for (int64_t g = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; g < groups; g += int64_t(gridDim.x) * blockDim.x)
    softmax_group_bwd(y + g * group, gy + g * group, gx + g * group, group);
}

}  // namespace

void grouped_softmax_forward_cuda(const Tensor& x, int64_t group, Tensor& y) {
  require_f32("grouped_softmax", x);
  const int64_t groups = x.numel() / group;
  if (groups == 0) return;
  grouped_softmax_forward_kernel<<<cuda::blocks_for(groups), 256, 0, cuda::stream()>>>(x.data<float>(), groups,
                                                                                        group, y.data<float>());
  MTINET_CUDA_LAUNCH_CHECK("grouped_softmax_forward_kernel");
}

void grouped_softmax_backward_cuda(const Tensor& y, const Tensor& gy, int64_t group, Tensor& gx) {
  require_f32("grouped_softmax backward", y);
  const int64_t groups = y.numel() / group;
  if (groups == 0) return;
  grouped_softmax_backward_kernel<<<cuda::blocks_for(groups), 256, 0, cuda::stream()>>>(
      y.data<float>(), gy.data<float>(), groups, group, gx.data<float>());
  MTINET_CUDA_LAUNCH_CHECK("grouped_softmax_backward_kernel");
}

}  // namespace mtinet::kernels
