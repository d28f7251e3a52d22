// Raw memory for tensor storage. The CPU allocator hands out 64-byte aligned blocks (cache lines, AVX-512);
// the CUDA allocator (core/cuda_allocator.h) caches device blocks so steady-state steps never call cudaMalloc.
#pragma once
#include <cstddef>

#include "core/device.h"

namespace mtinet {

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(size_t bytes) = 0;
  virtual void deallocate(void* ptr, size_t bytes) = 0;
};

constexpr size_t kCpuAlignment = 64;

// The process-wide allocator for a device. For CUDA it throws when the binary has no CUDA backend.
Allocator& allocator_for(Device d);

// Copies bytes between any two devices (host<->device copies go through the CUDA runtime).
void copy_bytes(void* dst, Device dst_dev, const void* src, Device src_dev, size_t bytes);
// Sets bytes to zero on a device.
void zero_bytes(void* dst, Device dev, size_t bytes);

}  // namespace mtinet
