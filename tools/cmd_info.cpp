// mtinet info: the version, the build configuration and what this process can use: for the CUDA backend the driver
// and runtime versions, the cuDNN and cuBLAS libraries actually loaded, and each GPU's name, compute capability, SM
// count and memory; when no GPU is usable, the exact reason (a driver older than the runtime reads differently from
// "no GPU").
#include <cstdio>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/error.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/version.h"

#ifdef MTINET_WITH_CUDA
#include "core/cuda_blas_library.h"
#include <cuda_runtime.h>
#include <cudnn.h>
#endif

namespace mtinet {

namespace {

#ifdef MTINET_WITH_CUDA
// CUDA encodes versions as 1000 * major + 10 * minor.
std::string cuda_version(int v) { return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10); }

void print_cuda_libraries() {
  int driver = 0, runtime = 0;
  if (cudaDriverGetVersion(&driver) != cudaSuccess) (void)cudaGetLastError();
  if (cudaRuntimeGetVersion(&runtime) != cudaSuccess) (void)cudaGetLastError();
  std::printf("CUDA driver: %s (supports runtimes up to this version)\n",
              driver ? cuda_version(driver).c_str() : "none found");
  std::printf("CUDA runtime: %s (built with %s)\n", cuda_version(runtime).c_str(), cuda_version(CUDART_VERSION).c_str());
  // cudnnGetVersion and cublasGetProperty report the shared libraries loaded now, which may differ from the headers.
  size_t cudnn = cudnnGetVersion();
  std::printf("cuDNN: %zu.%zu.%zu loaded (built with %d.%d.%d)\n", cudnn / 10000, (cudnn % 10000) / 100, cudnn % 100,
              CUDNN_MAJOR, CUDNN_MINOR, CUDNN_PATCHLEVEL);
  if (std::string error = cuda::cublas_load_error(); !error.empty()) {
    std::printf("cuBLAS: %s\n", error.c_str());
  } else {
    int major = 0, minor = 0, patch = 0;
    cuda::cublas_library().get_property(MAJOR_VERSION, &major);
    cuda::cublas_library().get_property(MINOR_VERSION, &minor);
    cuda::cublas_library().get_property(PATCH_LEVEL, &patch);
    std::printf("cuBLAS: %d.%d.%d loaded\n", major, minor, patch);
  }
#ifdef MTINET_HAVE_NCCL
  std::printf("NCCL: linked (multi-GPU gradient all-reduce; compiled, not yet verified on several GPUs)\n");
#else
  std::printf("NCCL: not used by this build (CUDA gradients of several ranks go through MPI and the host)\n");
#endif
}

void print_gpus() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    (void)cudaGetLastError();
    return;
  }
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, i) != cudaSuccess) {
      (void)cudaGetLastError();
      std::printf("GPU %d: properties unreadable\n", i);
      continue;
    }
    std::printf("GPU %d: %s, compute capability %d.%d, %d SMs, %.1f GiB, L2 %.0f MiB\n", i, p.name, p.major, p.minor,
                p.multiProcessorCount, double(p.totalGlobalMem) / double(1ull << 30),
                double(p.l2CacheSize) / double(1 << 20));
  }
}
#endif

}  // namespace

int cmd_info(const std::vector<std::string>& argv) {
  Args args(argv, {}, {"help"});
  if (args.has("help")) {
    std::printf(
        "usage: mtinet info\n\n"
        "Prints the version, whether the CUDA backend was built and, if so, the CUDA driver and runtime, cuDNN and\n"
        "cuBLAS versions actually loaded and each GPU found (name, compute capability, SMs, memory); then whether a\n"
        "GPU is usable (when not, the reason: no driver, a driver older than the runtime, no device) and the device\n"
        "that 'auto' in a config or --device resolves to. Takes no options.\n");
    return 0;
  }
  MTINET_CHECK(args.positional().empty(), "info takes no arguments, got '", args.positional()[0], "'");
  std::printf("mtinet %s\n", kVersion);
#ifdef MTINET_WITH_CUDA
  std::printf("CUDA backend: built\n");
  print_cuda_libraries();
  print_gpus();
#else
  std::printf("CUDA backend: not built (MTINET_CUDA=OFF)\n");
#endif
  if (cuda_available()) {
    std::printf("CUDA GPU available: yes\n");
  } else {
    std::printf("CUDA GPU available: no: %s\n", cuda_unavailable_reason().c_str());
  }
  std::printf("default device: %s\n", device_name(default_device()));
#ifdef MTINET_HAVE_MPI
  std::printf("mpi: yes (mpirun -np N mtinet train ... trains data-parallel)\n");
#else
  std::printf("mpi: no (one process; rebuild with libopenmpi-dev for multi-process training)\n");
#endif
  return 0;
}

}  // namespace mtinet
