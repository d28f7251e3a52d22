// The CUDA caching allocator. Device memory is obtained with cudaMalloc in rounded blocks and never returned to the
// driver while the process runs (except to retry after an out-of-memory): a freed block goes to a free list and is
// handed out again for a request of similar size, so a steady-state training step makes no cudaMalloc/cudaFree
// calls (both synchronise the device and would break CUDA-graph capture).
//
// Frees are stream-ordered: every kernel runs on the one stream cuda::stream(), so work that used a freed block is
// queued before any work of its next owner, and the block can be reused at once without a host synchronisation.
#include "core/cuda_allocator.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <set>
#include <unordered_map>
#include <utility>

#include "core/allocator.h"
#include "core/cuda_runtime.h"
#include "core/env_switch.h"
#include "core/error.h"

namespace mtinet {
namespace cuda {

namespace {
// Requests up to kSmallLimit round up to kSmallGranule (little waste for biases and scalars); larger requests round
// up to kLargeGranule, the GPU's large page size, so blocks of nearby sizes are interchangeable.
constexpr size_t kSmallLimit = size_t(1) << 20;
constexpr size_t kSmallGranule = 512;
constexpr size_t kLargeGranule = size_t(2) << 20;

size_t round_up(size_t n, size_t granule) { return (n + granule - 1) / granule * granule; }
size_t block_size_for(size_t bytes) {
  return bytes <= kSmallLimit ? round_up(bytes, kSmallGranule) : round_up(bytes, kLargeGranule);
}

EnvSwitch& poison_switch() {
  static EnvSwitch s("MTINET_CUDA_POISON", false);
  return s;
}

class CachingAllocator final : public Allocator {
  struct Block {
    void* ptr = nullptr;
    size_t size = 0;
  };

 public:
  void* allocate(size_t bytes) override {
    if (bytes == 0) return nullptr;
    MTINET_CHECK(cuda_available(), "cannot allocate ", bytes, " bytes on CUDA: no CUDA GPU is usable: ",
                 cuda_unavailable_reason());
    size_t size = block_size_for(bytes);
    std::lock_guard<std::mutex> lock(mutex_);
    Block b = take_free_block(size);
    if (!b.ptr) b = device_malloc(bytes, size);
    in_use_[b.ptr] = b.size;
    stats_.current += b.size;
    if (stats_.current > stats_.peak) stats_.peak = stats_.current;
    if (poison_switch().get()) MTINET_CUDA_CHECK(cudaMemsetAsync(b.ptr, 0xFF, b.size, stream()));
    return b.ptr;
  }

  // Called from Storage's destructor, so it must not throw.
  void deallocate(void* ptr, size_t) override {
    if (!ptr) return;
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = in_use_.find(ptr);
    if (it == in_use_.end()) {
      std::fprintf(stderr, "mtinet: CUDA allocator asked to free %p, which it did not hand out (double free?)\n", ptr);
      std::abort();
    }
    stats_.current -= it->second;
    free_.insert({it->second, reinterpret_cast<uintptr_t>(ptr)});
    in_use_.erase(it);
  }

  MemoryStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }

  void reset_peak() {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.peak = stats_.current;
  }

  void release_cached() {
    std::lock_guard<std::mutex> lock(mutex_);
    release_cached_locked();
  }

 private:
  // Best fit: the smallest free block of at least `size`, if it is not more than twice as large (a small request
  // must not pin down a big block that a later big request would then have to cudaMalloc again).
  Block take_free_block(size_t size) {
    auto it = free_.lower_bound({size, 0});
    if (it == free_.end() || it->first > 2 * size) return {};
    Block b{reinterpret_cast<void*>(it->second), it->first};
    free_.erase(it);
    return b;
  }

  Block device_malloc(size_t requested, size_t size) {
    void* p = nullptr;
    cudaError_t err = cudaMalloc(&p, size);
    if (err == cudaErrorMemoryAllocation) {
      (void)cudaGetLastError();  // the failure is not sticky; clear it so later checks do not report it
      release_cached_locked();
      err = cudaMalloc(&p, size);
      if (err == cudaErrorMemoryAllocation) {
        (void)cudaGetLastError();
        size_t free_bytes = 0, total_bytes = 0;
        if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess) (void)cudaGetLastError();
        MTINET_FAIL("out of GPU memory: requested ", requested, " bytes (block of ", size, "); tensors hold ",
                    stats_.current, " bytes, the allocator caches ", stats_.cached, " bytes; the device has ",
                    free_bytes, " of ", total_bytes, " bytes free. Lower batch_size or data.size in the config, or "
                    "free the GPU of other processes (nvidia-smi lists them)");
      }
    }
    if (err != cudaSuccess) {
      (void)cudaGetLastError();
      throw_cuda(cudaGetErrorString(err), "cudaMalloc(&p, size)", __FILE__, __LINE__);
    }
    ++stats_.device_mallocs;
    stats_.cached += size;
    return {p, size};
  }

  void release_cached_locked() {
    if (free_.empty()) return;
    // Freed blocks may still be read or written by queued kernels (frees are stream-ordered): wait for them.
    MTINET_CUDA_CHECK(cudaStreamSynchronize(stream()));
    for (const auto& [size, addr] : free_) {
      MTINET_CUDA_CHECK(cudaFree(reinterpret_cast<void*>(addr)));
      stats_.cached -= size;
    }
    free_.clear();
  }

  std::mutex mutex_;
  std::unordered_map<void*, size_t> in_use_;     // block -> its size
  std::set<std::pair<size_t, uintptr_t>> free_;  // (size, address), ordered for best fit
  MemoryStats stats_;
};

CachingAllocator& the_allocator() {
  // Never destroyed: CUDA tensors held in statics may be freed after any destructor we could register.
  static CachingAllocator* a = new CachingAllocator();
  return *a;
}
}  // namespace

MemoryStats memory_stats() { return the_allocator().stats(); }
void reset_peak_memory() { the_allocator().reset_peak(); }
void release_cached_blocks() { the_allocator().release_cached(); }
bool poison_allocations() { return poison_switch().get(); }
void set_poison_allocations(bool on) { poison_switch().set(on); }

}  // namespace cuda

Allocator& cuda_allocator() { return cuda::the_allocator(); }

}  // namespace mtinet
