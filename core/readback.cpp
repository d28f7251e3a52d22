// HostReadback's device-independent half; the CUDA half (page-locked memory, events) is core/cuda_readback.cpp.
#include "core/readback.h"

#include <cstring>

namespace mtinet {

#ifdef MTINET_WITH_CUDA
CudaReadback* cuda_readback_create();
void cuda_readback_destroy(CudaReadback* r) noexcept;
void cuda_readback_start(CudaReadback* r, const void* device_src, size_t bytes);
const void* cuda_readback_wait(CudaReadback* r);
#endif

HostReadback::~HostReadback() {
#ifdef MTINET_WITH_CUDA
  cuda_readback_destroy(cuda_);  // waits for a copy still in flight before freeing its buffer
#endif
}

void HostReadback::start(const Tensor& src) {
  MTINET_CHECK(src.defined(), "HostReadback: cannot read an undefined tensor");
  if (pending()) wait();
  if (src.device() == Device::CPU) {
    host_ = src.clone();
  } else {
#ifdef MTINET_WITH_CUDA
    if (!cuda_) cuda_ = cuda_readback_create();
    cuda_readback_start(cuda_, src.raw_data(), src.nbytes());
#else
    MTINET_FAIL("HostReadback: ", src.describe(), " is on a device this build has no backend for");
#endif
  }
  src_ = src;
}

Tensor HostReadback::wait() {
  MTINET_CHECK(pending(), "HostReadback: wait() without a copy started");
  Tensor out;
  if (src_.device() == Device::CPU) {
    out = host_;
    host_ = Tensor();
  } else {
#ifdef MTINET_WITH_CUDA
    out = Tensor::empty(src_.shape(), src_.dtype());
    const void* copied = cuda_readback_wait(cuda_);
    if (out.nbytes() > 0) std::memcpy(out.raw_data(), copied, out.nbytes());
#endif
  }
  src_ = Tensor();
  return out;
}

}  // namespace mtinet
