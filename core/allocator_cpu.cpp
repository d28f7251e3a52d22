// The CPU allocator and the device-independent entry points. CUDA entry points live in core/cuda_runtime.cpp.
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "core/allocator.h"
#include "core/block_pool.h"
#include "core/error.h"

namespace mtinet {

namespace {
// Blocks of 256 KiB and more come from a BlockPool (core/block_pool.h): kept after free and handed out again, split
// and merged, instead of going back to the system and faulting in again on the next step. Smaller ones use glibc's
// own free lists.
class CpuAllocator final : public Allocator {
 public:
  void* allocate(size_t bytes) override {
    size_t rounded = round_up(bytes, kCpuAlignment);
    void* p = nullptr;
    if (rounded >= kPooledFrom) {
      std::lock_guard<std::mutex> lock(mutex_);
      p = pool_.allocate(rounded);
    } else {
      p = std::aligned_alloc(kCpuAlignment, rounded == 0 ? kCpuAlignment : rounded);
    }
    MTINET_CHECK(p != nullptr, "CPU allocation of ", bytes, " bytes failed (out of memory)");
    return p;
  }

  void deallocate(void* ptr, size_t bytes) override {
    if (ptr == nullptr) return;
    if (round_up(bytes, kCpuAlignment) >= kPooledFrom) {
      std::lock_guard<std::mutex> lock(mutex_);
      pool_.deallocate(ptr);
      return;
    }
    std::free(ptr);
  }

 private:
#if defined(__SANITIZE_ADDRESS__)
  // Under AddressSanitizer every block goes back to malloc, whose poisoning finds use-after-free; a reused block
  // would hide it.
  static constexpr size_t kPooledFrom = ~size_t(0);
#else
  static constexpr size_t kPooledFrom = size_t(1) << 18;  // 256 KiB: below, glibc's own free lists are fine
#endif
  // Idle memory is kept however much there is: it never exceeds what the process once used at once, so it adds
  // nothing to the peak, and a training step frees and needs again all of its activations every step (a 4 GiB cap
  // cost a batch-8 480x640 step 200 k page faults). It goes back to the system when an allocation fails.
  static constexpr size_t kMaxIdleBytes = ~size_t(0);
  static size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

  std::mutex mutex_;
  BlockPool pool_{kMaxIdleBytes};
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
