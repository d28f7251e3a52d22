// The CUDA runtime shared by every CUDA kernel: one compute stream, the cuBLAS/cuDNN handles with one reusable
// workspace, the caching allocator's statistics, and the error checks. Included only by CUDA-backend files
// (*.cu and core/cuda_*.cpp), which are compiled only when MTINET_WITH_CUDA is defined.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <cstddef>
#include <cstdint>

#include "core/cuda_blas_library.h"

namespace mtinet::cuda {

cudaStream_t stream();           // the one compute stream every kernel and library call uses
cublasHandle_t cublas();         // bound to stream(); cuBLAS itself is loaded on first use (core/cuda_blas_library.h)
cudnnHandle_t cudnn();           // bound to stream()
// A device workspace of at least `bytes`, reused across calls (grown through the caching allocator).
void* workspace(size_t bytes);

// Debug switch (env MTINET_CUDA_SYNC=1 or set_debug_sync): synchronise after every op so faults surface at the op.
bool debug_sync();
void set_debug_sync(bool on);
// TF32 tensor-core math for convolutions and GEMMs (on by default; env MTINET_TF32=0 turns it off).
bool tf32_enabled();
void set_tf32(bool on);
// Deterministic convolution backward algorithms only (on by default, so a run repeats bit for bit; env
// MTINET_CUDNN_DETERMINISTIC=0 lets cuDNN's fastest, possibly atomics-based algorithms in).
bool deterministic();
void set_deterministic(bool on);

struct MemoryStats {
  size_t current = 0;  // bytes handed out to tensors now
  size_t peak = 0;     // high-water mark of current
  size_t cached = 0;   // bytes held by the allocator (in use + free blocks)
  size_t device_mallocs = 0;  // cudaMalloc calls so far (constant in a steady-state step)
};
MemoryStats memory_stats();
void reset_peak_memory();
void synchronize();  // waits for stream() (for timing and host reads)

[[noreturn]] void throw_cuda(const char* what, const char* call, const char* file, int line);
// A failed cuDNN call: the status plus cuDNN 9's own account of what went wrong (cudnnGetLastErrorString), which
// names the descriptor or parameter it rejected.
[[noreturn]] void throw_cudnn(cudnnStatus_t status, const char* call, const char* file, int line);
// Checks for a launch error (and synchronises in debug mode), naming the kernel.
void check_launch(const char* kernel, const char* file, int line);

// Blocks of `threads` covering n elements (capped for grid-stride loops).
inline unsigned blocks_for(int64_t n, int threads = 256) {
  int64_t b = (n + threads - 1) / threads;
  if (b < 1) b = 1;
  if (b > 65535LL * 8) b = 65535LL * 8;
  return unsigned(b);
}

}  // namespace mtinet::cuda

#define MTINET_CUDA_CHECK(call)                                                                         \
  do {                                                                                                  \
    cudaError_t err_ = (call);                                                                          \
    if (err_ != cudaSuccess) ::mtinet::cuda::throw_cuda(cudaGetErrorString(err_), #call, __FILE__, __LINE__); \
  } while (0)
#define MTINET_CUBLAS_CHECK(call)                                                                            \
  do {                                                                                                       \
    cublasStatus_t st_ = (call);                                                                             \
    if (st_ != CUBLAS_STATUS_SUCCESS)                                                                        \
      ::mtinet::cuda::throw_cuda(::mtinet::cuda::cublas_library().status_string(st_), #call, __FILE__, __LINE__); \
  } while (0)
#define MTINET_CUDNN_CHECK(call)                                                                           \
  do {                                                                                                     \
    cudnnStatus_t st_ = (call);                                                                            \
    if (st_ != CUDNN_STATUS_SUCCESS) ::mtinet::cuda::throw_cudnn(st_, #call, __FILE__, __LINE__);                 \
  } while (0)
#define MTINET_CUDA_LAUNCH_CHECK(kernel) ::mtinet::cuda::check_launch(kernel, __FILE__, __LINE__)
