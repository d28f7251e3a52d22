// The CUDA half of core/readback.h: a device->host copy queued on the compute stream into a page-locked buffer of
// its own, with an event recorded behind it so that collecting the copy waits for nothing queued after it.
//
// The buffer and event live as long as the HostReadback and are reused: cudaMallocHost is slow and cudaFreeHost
// synchronises the whole device, neither of which a training step may pay for.
#include <cstddef>

#include "core/cuda_runtime.h"
#include "core/readback.h"

namespace mtinet {

struct CudaReadback {
  void* host = nullptr;
  size_t capacity = 0;
  cudaEvent_t done = nullptr;
  bool pending = false;
};

CudaReadback* cuda_readback_create() {
  auto* r = new CudaReadback();
  cudaError_t err = cudaEventCreateWithFlags(&r->done, cudaEventDisableTiming);
  if (err != cudaSuccess) {
    delete r;
    cuda::throw_cuda(cudaGetErrorString(err), "cudaEventCreateWithFlags", __FILE__, __LINE__);
  }
  return r;
}

void cuda_readback_destroy(CudaReadback* r) noexcept {
  if (!r) return;
  // Errors are ignored: this runs in destructors, possibly while an exception unwinds the training loop.
  if (r->pending) cudaEventSynchronize(r->done);
  if (r->host) cudaFreeHost(r->host);
  cudaEventDestroy(r->done);
  delete r;
}

void cuda_readback_start(CudaReadback* r, const void* device_src, size_t bytes) {
  if (r->pending) {  // the buffer is about to be overwritten: its previous copy must have landed
    MTINET_CUDA_CHECK(cudaEventSynchronize(r->done));
    r->pending = false;
  }
  if (bytes > r->capacity) {
    if (r->host) MTINET_CUDA_CHECK(cudaFreeHost(r->host));
    r->host = nullptr;
    r->capacity = 0;
    MTINET_CUDA_CHECK(cudaMallocHost(&r->host, bytes));
    r->capacity = bytes;
  }
  if (bytes > 0) {
    MTINET_CUDA_CHECK(cudaMemcpyAsync(r->host, device_src, bytes, cudaMemcpyDeviceToHost, cuda::stream()));
  }
  MTINET_CUDA_CHECK(cudaEventRecord(r->done, cuda::stream()));
  r->pending = true;
  if (cuda::debug_sync()) cuda::synchronize();
}

const void* cuda_readback_wait(CudaReadback* r) {
  if (r->pending) {
    MTINET_CUDA_CHECK(cudaEventSynchronize(r->done));
    r->pending = false;
  }
  return r->host;
}

}  // namespace mtinet
