// Copies between host and device memory, and zeroing, all on the one compute stream.
//
// Host<->device copies go through a pinned (page-locked) staging buffer of two slots: pageable host memory cannot be
// copied asynchronously, and copying it through our own pinned slots lets one slot's DMA overlap the host memcpy of
// the other. A host->device copy returns as soon as the source has been copied into the slots (the caller may reuse
// its memory at once); a device->host copy returns when the data has arrived.
#include <cstdint>
#include <cstring>
#include <mutex>

#include "core/cuda_allocator.h"
#include "core/cuda_runtime.h"
#include "core/error.h"

namespace mtinet {

namespace {
constexpr size_t kSlotBytes = size_t(4) << 20;

class PinnedStaging {
 public:
  void host_to_device(char* dst, const char* src, size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    ensure_created();
    for (size_t off = 0; off < bytes; off += kSlotBytes) {
      size_t n = bytes - off < kSlotBytes ? bytes - off : kSlotBytes;
      Slot& s = next_slot();
      wait(s);  // its previous copy must have left the slot before we overwrite it
      std::memcpy(s.host, src + off, n);
      MTINET_CUDA_CHECK(cudaMemcpyAsync(dst + off, s.host, n, cudaMemcpyHostToDevice, cuda::stream()));
      MTINET_CUDA_CHECK(cudaEventRecord(s.done, cuda::stream()));
      s.pending = true;
    }
  }

  void device_to_host(char* dst, const char* src, size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    ensure_created();
    // Chunk k's DMA is queued before chunk k-1 is copied out of its slot, so the two overlap.
    Slot* prev = nullptr;
    char* prev_dst = nullptr;
    size_t prev_n = 0;
    for (size_t off = 0; off < bytes; off += kSlotBytes) {
      size_t n = bytes - off < kSlotBytes ? bytes - off : kSlotBytes;
      Slot& s = next_slot();
      wait(s);
      MTINET_CUDA_CHECK(cudaMemcpyAsync(s.host, src + off, n, cudaMemcpyDeviceToHost, cuda::stream()));
      MTINET_CUDA_CHECK(cudaEventRecord(s.done, cuda::stream()));
      s.pending = true;
      if (prev) drain(*prev, prev_dst, prev_n);
      prev = &s;
      prev_dst = dst + off;
      prev_n = n;
    }
    if (prev) drain(*prev, prev_dst, prev_n);
  }

 private:
  struct Slot {
    void* host = nullptr;
    cudaEvent_t done = nullptr;  // recorded after the copy that last used the slot
    bool pending = false;
  };

  void ensure_created() {
    if (slots_[0].host) return;
    for (Slot& s : slots_) {
      MTINET_CUDA_CHECK(cudaMallocHost(&s.host, kSlotBytes));
      MTINET_CUDA_CHECK(cudaEventCreateWithFlags(&s.done, cudaEventDisableTiming));
    }
  }
  Slot& next_slot() {
    next_ ^= 1;
    return slots_[next_];
  }
  static void wait(Slot& s) {
    if (!s.pending) return;
    MTINET_CUDA_CHECK(cudaEventSynchronize(s.done));
    s.pending = false;
  }
  static void drain(Slot& s, char* dst, size_t n) {
    wait(s);
    std::memcpy(dst, s.host, n);
  }

  std::mutex mutex_;  // a data-loading thread may copy while the main thread does
  Slot slots_[2];
  int next_ = 0;
};

PinnedStaging& staging() {
  static PinnedStaging* s = new PinnedStaging();  // never destroyed, like the stream it uses
  return *s;
}
}  // namespace

void cuda_copy_bytes(void* dst, Device dst_dev, const void* src, Device src_dev, size_t bytes) {
  if (bytes == 0) return;
  char* d = static_cast<char*>(dst);
  const char* s = static_cast<const char*>(src);
  if (dst_dev == Device::CUDA && src_dev == Device::CUDA) {
    MTINET_CUDA_CHECK(cudaMemcpyAsync(d, s, bytes, cudaMemcpyDeviceToDevice, cuda::stream()));
  } else if (dst_dev == Device::CUDA) {
    staging().host_to_device(d, s, bytes);
  } else if (src_dev == Device::CUDA) {
    staging().device_to_host(d, s, bytes);
  } else {
    std::memcpy(d, s, bytes);
  }
  if (cuda::debug_sync()) cuda::synchronize();
}

void cuda_zero_bytes(void* dst, size_t bytes) {
  if (bytes == 0) return;
  MTINET_CUDA_CHECK(cudaMemsetAsync(dst, 0, bytes, cuda::stream()));
  if (cuda::debug_sync()) cuda::synchronize();
}

}  // namespace mtinet
