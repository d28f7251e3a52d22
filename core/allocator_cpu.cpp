// The CPU allocator and the device-independent entry points. CUDA entry points live in core/cuda_runtime.cpp.
#include <cstdlib>
#include <cstring>

#include "core/allocator.h"
#include "core/error.h"

namespace mtinet {

namespace {
class CpuAllocator final : public Allocator {
 public:
  void* allocate(size_t bytes) override {
    size_t rounded = (bytes + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
    void* p = std::aligned_alloc(kCpuAlignment, rounded);
    MTINET_CHECK(p != nullptr, "CPU allocation of ", bytes, " bytes failed (out of memory)");
    return p;
  }
  void deallocate(void* ptr, size_t) override { std::free(ptr); }
};
}  // namespace

#ifdef MTINET_WITH_CUDA
Allocator& cuda_allocator();  // core/cuda_allocator.cpp
void cuda_copy_bytes(void* dst, Device dst_dev, const void* src, Device src_dev, size_t bytes);
void cuda_zero_bytes(void* dst, size_t bytes);
namespace cuda {
void synchronize();  // core/cuda_runtime.cpp
}
#endif

Allocator& allocator_for(Device d) {
  static CpuAllocator cpu;
  if (d == Device::CPU) return cpu;
#ifdef MTINET_WITH_CUDA
  return cuda_allocator();
#else
  MTINET_FAIL("this build of mtinet has no CUDA backend (configured with MTINET_CUDA=OFF)");
#endif
}

void copy_bytes(void* dst, Device dst_dev, const void* src, Device src_dev, size_t bytes) {
  if (bytes == 0) return;
  if (dst_dev == Device::CPU && src_dev == Device::CPU) {
    std::memcpy(dst, src, bytes);
    return;
  }
#ifdef MTINET_WITH_CUDA
  cuda_copy_bytes(dst, dst_dev, src, src_dev, bytes);
#else
  MTINET_FAIL("this build of mtinet has no CUDA backend (configured with MTINET_CUDA=OFF)");
#endif
}

void zero_bytes(void* dst, Device dev, size_t bytes) {
  if (bytes == 0) return;
  if (dev == Device::CPU) {
    std::memset(dst, 0, bytes);
    return;
  }
#ifdef MTINET_WITH_CUDA
  cuda_zero_bytes(dst, bytes);
#else
  MTINET_FAIL("this build of mtinet has no CUDA backend (configured with MTINET_CUDA=OFF)");
#endif
}

#ifndef MTINET_WITH_CUDA
bool cuda_available() { return false; }
std::string cuda_unavailable_reason() { return "this build has no CUDA backend (configured with MTINET_CUDA=OFF)"; }
#endif

void synchronize(Device d) {
#ifdef MTINET_WITH_CUDA
  if (d == Device::CUDA) cuda::synchronize();
#else
  (void)d;
#endif
}

Device default_device() { return cuda_available() ? Device::CUDA : Device::CPU; }

Device parse_device(const std::string& s) {
  if (s == "auto") return default_device();
  if (s == "cpu") return Device::CPU;
  if (s == "cuda") {
    MTINET_CHECK(cuda_available(), "--device cuda requested but no CUDA GPU is usable: ", cuda_unavailable_reason());
    return Device::CUDA;
  }
  MTINET_FAIL("unknown device '", s, "' (expected cpu, cuda or auto)");
}

}  // namespace mtinet
