// Controls of the CUDA caching allocator (core/cuda_allocator.cpp) beyond the statistics in core/cuda_runtime.h.
// Free of CUDA headers so tests can use it; defined only in CUDA builds (guard calls with MTINET_WITH_CUDA).
#pragma once
#include <cstddef>

#include "core/allocator.h"

namespace mtinet {
// The CUDA halves of core/allocator.h's entry points (called from core/allocator_cpu.cpp).
Allocator& cuda_allocator();
void cuda_copy_bytes(void* dst, Device dst_dev, const void* src, Device src_dev, size_t bytes);
void cuda_zero_bytes(void* dst, size_t bytes);
}  // namespace mtinet

namespace mtinet::cuda {

// Debug: fill every block the allocator hands out with 0xFF bytes (NaN in f32/f64, -1 in integers), so any output
// element a kernel forgets to write shows up as NaN. Env MTINET_CUDA_POISON=1 turns it on from the start.
bool poison_allocations();
void set_poison_allocations(bool on);

// Returns every cached free block to the driver (cudaFree), after waiting for the stream. The next allocations of
// those sizes call cudaMalloc again.
void release_cached_blocks();

}  // namespace mtinet::cuda
