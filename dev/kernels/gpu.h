// The GPU side of the runner, as the host program (main.cpp) sees it: no CUDA types, so a CPU-only build compiles
// main.cpp unchanged and links the stubs at the end of main.cpp instead of gpu_runner.cu.
#pragma once
#include <string>
#include <vector>

#include "dev/kernels/problems.h"
#include "kernels/conv/conv2d.h"

namespace devk {

constexpr int kConvVersions = 4;
constexpr int kBnVersions = 3;
constexpr int kBnBackwardVersions = 2;

// The same convolution as mtinet's kernels describe it (for its CPU reference and its cuDNN path).
mtinet::kernels::Conv2dShape mtinet_shape(const ConvProblem& p);

// One timed and checked kernel: a numbered version or the baseline it is compared with.
struct GpuResult {
  std::string name;
  double ms = 0;   // per call, averaged over the timed repetitions
  double err = 0;  // max |out - reference| / max |reference| (over y, and mean and var for BatchNorm)
  double tol = 0;
  bool ok() const { return err <= tol; }
};

// Empty when the GPU versions can run; otherwise why not (no CUDA backend in this build, no device, driver error).
std::string gpu_unavailable_reason();

// Runs version `version` (0: every version) and the baseline on the problem, checks each output against the
// reference computed on the CPU, and times each over `reps` calls (0: run and check only).
std::vector<GpuResult> gpu_conv(const ConvProblem& p, const std::vector<float>& x, const std::vector<float>& w,
                                const std::vector<float>& y_ref, int version, int reps);
std::vector<GpuResult> gpu_bn(const BnProblem& p, const std::vector<float>& x, const std::vector<float>& gamma,
                              const std::vector<float>& beta, const std::vector<float>& y_ref,
                              const std::vector<float>& mean_ref, const std::vector<float>& var_ref, int version,
                              int reps);

// The backward: gy given, x, y (the forward's output: the ReLU mask), mean and var from the forward; checked on gx,
// dgamma and dbeta.
std::vector<GpuResult> gpu_bn_backward(const BnProblem& p, const std::vector<float>& x, const std::vector<float>& y,
                                       const std::vector<float>& gy, const std::vector<float>& gamma,
                                       const std::vector<float>& mean, const std::vector<float>& var,
                                       const std::vector<float>& gx_ref, const std::vector<float>& dgamma_ref,
                                       const std::vector<float>& dbeta_ref, int version, int reps);

}  // namespace devk
