// The CPU allocator and the device-independent entry points. CUDA entry points live in core/cuda_runtime.cpp.
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>

#include "core/allocator.h"
#include "core/error.h"

namespace mtinet {

namespace {
// Large blocks are kept after free and handed out again. glibc serves them with mmap and returns them with munmap
// (its mmap threshold cannot be raised past 32 MiB), so every training step faulted in and zeroed its activations,
// gradients and im2col buffers page by page anew: 64 k page faults and ~5% of a CPU step in the kernel. A step
// allocates the same sizes as the step before, so a block cache keyed by size serves nearly every request.
// A block is reused for a request of at least 7/8 of its size, so the cache wastes little; it holds at most
// kMaxCachedBytes, beyond which freed blocks go back to the system.
class CpuAllocator final : public Allocator {
 public:
  void* allocate(size_t bytes) override {
    size_t rounded = round_up(bytes, kCpuAlignment);
    if (rounded >= kCachedFrom) {
      rounded = round_up(rounded, kPage);
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.lower_bound(rounded);
      if (it != free_.end() && it->first - it->first / 8 <= rounded) {
        void* p = it->second;
        cached_bytes_ -= it->first;
        free_.erase(it);
        return p;
      }
    }
    void* p = std::aligned_alloc(kCpuAlignment, rounded);
    if (p == nullptr && rounded >= kCachedFrom) {
      release_cache();  // the cache may hold what this request needs
      p = std::aligned_alloc(kCpuAlignment, rounded);
    }
    MTINET_CHECK(p != nullptr, "CPU allocation of ", bytes, " bytes failed (out of memory)");
    if (rounded >= kCachedFrom) {
      std::lock_guard<std::mutex> lock(mutex_);
      sizes_[p] = rounded;
    }
    return p;
  }

  void deallocate(void* ptr, size_t bytes) override {
    if (ptr == nullptr) return;
    if (round_up(bytes, kCpuAlignment) >= kCachedFrom) {
      std::lock_guard<std::mutex> lock(mutex_);
      auto s = sizes_.find(ptr);
      if (s != sizes_.end() && cached_bytes_ + s->second <= kMaxCachedBytes) {
        free_.emplace(s->second, ptr);
        cached_bytes_ += s->second;
        return;
      }
      if (s != sizes_.end()) sizes_.erase(s);
    }
    std::free(ptr);
  }

  ~CpuAllocator() override { release_cache(); }

 private:
#if defined(__SANITIZE_ADDRESS__)
  // Under AddressSanitizer every block goes back to malloc, whose poisoning finds use-after-free; a reused block
  // would hide it.
  static constexpr size_t kCachedFrom = ~size_t(0);
#else
  static constexpr size_t kCachedFrom = size_t(1) << 18;  // 256 KiB: below, glibc's own free lists are fine
#endif
  static constexpr size_t kPage = 4096;
  static constexpr size_t kMaxCachedBytes = size_t(4) << 30;  // 4 GiB of idle blocks at most
  static size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

  void release_cache() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [size, p] : free_) {
      sizes_.erase(p);
      std::free(p);
    }
    free_.clear();
    cached_bytes_ = 0;
  }

  std::mutex mutex_;
  std::multimap<size_t, void*> free_;          // idle blocks by size
  std::unordered_map<void*, size_t> sizes_;    // every large block handed out or idle, by address
  size_t cached_bytes_ = 0;
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
