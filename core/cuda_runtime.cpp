// The CUDA runtime state shared by every kernel: the one compute stream, the cuBLAS/cuDNN handles bound to it, the
// reusable workspace, the debug and TF32 switches, and the error checks (declared in core/cuda_runtime.h).
//
// The stream and handles are created on first use and deliberately never destroyed: tensors held in statics may
// outlive any destructor we could register, and the driver reclaims everything at process exit anyway.
#include "core/cuda_runtime.h"

#include <atomic>
#include <mutex>
#include <string>

#include "core/allocator.h"
#include "core/env_switch.h"
#include "core/error.h"

namespace mtinet {

namespace {
// Probed once. Without a driver or a GPU cudaGetDeviceCount returns an error code (it never aborts); the error is
// kept for cuda_unavailable_reason() and cleared so it cannot surface later from cudaGetLastError in an unrelated
// check. A driver older than the runtime we were built with, for instance, reads "CUDA driver version is
// insufficient for CUDA runtime version" here instead of a bare "no GPU".
struct Probe {
  bool available = false;
  std::string reason;
};
const Probe& probe() {
  static const Probe p = [] {
    Probe r;
    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
      (void)cudaGetLastError();
      r.reason = detail::concat("cudaGetDeviceCount failed: ", cudaGetErrorName(err), " (", cudaGetErrorString(err), ")");
    } else if (count < 1) {
      r.reason = "the CUDA driver reports no GPU";
    } else {
      r.available = true;
    }
    return r;
  }();
  return p;
}
}  // namespace

bool cuda_available() { return probe().available; }
std::string cuda_unavailable_reason() { return probe().reason; }

namespace cuda {

namespace {
EnvSwitch& debug_sync_switch() {
  static EnvSwitch s("MTINET_CUDA_SYNC", false);
  return s;
}
EnvSwitch& tf32_switch() {
  static EnvSwitch s("MTINET_TF32", true);
  return s;
}
EnvSwitch& deterministic_switch() {
  static EnvSwitch s("MTINET_CUDNN_DETERMINISTIC", true);
  return s;
}

cublasMath_t cublas_math_mode() { return tf32_enabled() ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH; }

// cuBLAS gets its workspace from us (not from its own cudaMalloc on first use per stream), so a captured CUDA graph
// never sees a hidden allocation. 32 MiB is what NVIDIA recommends for Hopper.
constexpr size_t kCublasWorkspaceBytes = size_t(32) << 20;
// Set once cublas() has made the handle, so set_tf32 can update it without creating one.
std::atomic<cublasHandle_t> created_cublas{nullptr};

struct Workspace {
  std::mutex mutex;
  void* ptr = nullptr;
  size_t bytes = 0;
};
Workspace& the_workspace() {
  static Workspace* w = new Workspace();  // never destroyed, see the file comment
  return *w;
}
}  // namespace

void throw_cuda(const char* what, const char* call, const char* file, int line) {
  throw_error(file, line, detail::concat(call, " failed: ", what));
}

void throw_cudnn(cudnnStatus_t status, const char* call, const char* file, int line) {
  char detail[1024] = {0};
  cudnnGetLastErrorString(detail, sizeof(detail));
  std::string what = cudnnGetErrorString(status);
  if (detail[0] != '\0') what += std::string(" (cuDNN: ") + detail + ")";
  throw_cuda(what.c_str(), call, file, line);
}

cudaStream_t stream() {
  static cudaStream_t s = [] {
    cudaStream_t created = nullptr;
    // Non-blocking: no implicit ordering with the legacy default stream, which this library never uses.
    MTINET_CUDA_CHECK(cudaStreamCreateWithFlags(&created, cudaStreamNonBlocking));
    return created;
  }();
  return s;
}

cublasHandle_t cublas() {
  static cublasHandle_t h = [] {
    cublasHandle_t created = nullptr;
    MTINET_CUBLAS_CHECK(cublas_library().create(&created));
    MTINET_CUBLAS_CHECK(cublas_library().set_stream(created, stream()));
    MTINET_CUBLAS_CHECK(cublas_library().set_math_mode(created, cublas_math_mode()));
    void* ws = allocator_for(Device::CUDA).allocate(kCublasWorkspaceBytes);
    MTINET_CUBLAS_CHECK(cublas_library().set_workspace(created, ws, kCublasWorkspaceBytes));
    created_cublas.store(created);
    return created;
  }();
  return h;
}

cudnnHandle_t cudnn() {
  static cudnnHandle_t h = [] {
    cudnnHandle_t created = nullptr;
    MTINET_CUDNN_CHECK(cudnnCreate(&created));
    MTINET_CUDNN_CHECK(cudnnSetStream(created, stream()));
    return created;
  }();
  return h;
}

void* workspace(size_t bytes) {
  Workspace& w = the_workspace();
  std::lock_guard<std::mutex> lock(w.mutex);
  if (bytes > w.bytes) {
    // Grow by at least half so a slowly increasing sequence of requests does not reallocate every time. The old
    // block goes back to the caching allocator; work already queued on the stream finishes before its reuse.
    size_t grown = w.bytes + w.bytes / 2;
    size_t want = bytes > grown ? bytes : grown;
    Allocator& a = allocator_for(Device::CUDA);
    void* p = a.allocate(want);
    if (w.ptr) a.deallocate(w.ptr, w.bytes);
    w.ptr = p;
    w.bytes = want;
  }
  return w.ptr;
}

bool debug_sync() { return debug_sync_switch().get(); }
void set_debug_sync(bool on) { debug_sync_switch().set(on); }

bool tf32_enabled() { return tf32_switch().get(); }
void set_tf32(bool on) {
  tf32_switch().set(on);
  // The cuDNN side reads tf32_enabled() when it sets each convolution descriptor's math type; cuBLAS keeps the mode
  // on its handle, so update the handle if it exists (a later one is created with the new mode).
  if (cublasHandle_t h = created_cublas.load()) MTINET_CUBLAS_CHECK(cublas_library().set_math_mode(h, cublas_math_mode()));
}

bool deterministic() { return deterministic_switch().get(); }
void set_deterministic(bool on) { deterministic_switch().set(on); }

void synchronize() { MTINET_CUDA_CHECK(cudaStreamSynchronize(stream())); }

void check_launch(const char* kernel, const char* file, int line) {
  cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) {
    throw_error(file, line, detail::concat("launch of kernel ", kernel, " failed: ", cudaGetErrorString(err)));
  }
  if (debug_sync()) {
    err = cudaStreamSynchronize(stream());
    if (err != cudaSuccess) {
      throw_error(file, line, detail::concat("kernel ", kernel, " failed while running: ", cudaGetErrorString(err)));
    }
  }
}

}  // namespace cuda
}  // namespace mtinet
