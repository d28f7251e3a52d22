// Helpers shared by every kernel family: device dispatch, float-type dispatch and the host/device qualifier.
// How an op is put together from these, and a checklist for adding one: docs/ops.md.
#pragma once
#include "core/error.h"
#include "core/profiler.h"
#include "core/tensor.h"

// Functions used by both the CPU loops and the CUDA kernels.
#ifdef __CUDACC__
#define MTINET_HD __host__ __device__ __forceinline__
#else
#define MTINET_HD inline
#endif

namespace mtinet::kernels {
[[noreturn]] void throw_no_cuda(const char* fn);

// A product rounded on its own, never fused with a following add into an FMA. nvcc contracts a * b + c into one
// fma by default and the host compiler (without -mfma) does not, so in index math, where one ulp of a source
// coordinate moves an interpolation weight by up to 1e-5, both devices must round alike.
MTINET_HD float mul_rn(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
MTINET_HD double mul_rn(double a, double b) {
#ifdef __CUDA_ARCH__
  return __dmul_rn(a, b);
#else
  return a * b;
#endif
}
}  // namespace mtinet::kernels

// MTINET_ON_DEVICE(dev, name, args...) calls name_cpu(args...) or name_cuda(args...). Both must return void.
// The profiler's KernelScope temporary lives until the end of the full expression, i.e. around the call: it times
// the kernel under `name` when profiling is on and costs one atomic load when it is off.
#ifdef MTINET_WITH_CUDA
#define MTINET_ON_DEVICE(dev, name, ...)                                         \
  ((void)::mtinet::profiler::KernelScope(#name, (dev)),                          \
   (dev) == ::mtinet::Device::CPU ? name##_cpu(__VA_ARGS__) : name##_cuda(__VA_ARGS__))
#else
#define MTINET_ON_DEVICE(dev, name, ...)                                         \
  ((void)::mtinet::profiler::KernelScope(#name, (dev)),                          \
   (dev) == ::mtinet::Device::CPU ? name##_cpu(__VA_ARGS__) : ::mtinet::kernels::throw_no_cuda(#name))
#endif

// MTINET_FLOAT_TYPES(dtype, T, body): runs body with T = float or double.
#define MTINET_FLOAT_TYPES(dtype, T, ...)                                                   \
  do {                                                                                      \
    if ((dtype) == ::mtinet::DType::F32) { using T = float; __VA_ARGS__; }                  \
    else if ((dtype) == ::mtinet::DType::F64) { using T = double; __VA_ARGS__; }            \
    else MTINET_FAIL("expected f32 or f64, got ", ::mtinet::dtype_name(dtype));             \
  } while (0)
