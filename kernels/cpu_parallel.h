// When a memory-bound CPU loop is worth splitting over threads.
//
// mtinet's OpenMP threads sleep between parallel regions (core/omp_wait_policy.h: passive waiting, so that a shared
// machine's cores are not held by spinning), and waking one costs 20-30 us. Measured on the 2-core AMD EPYC build
// machine, best of 200 runs with a pause between them as between kernels: c = a + b over 2^16 floats took 16 us on
// one thread and 41 us on two; 2^18 floats 64 us and 70 us; 2^20 floats 261 us and 161 us. So loops that do a few
// operations per element (element-wise ops, BatchNorm apply and statistics, resizing, Adam) stay on one thread below
// 2^18 elements. Loops with much more work per element (cross-entropy's 40-class rows, im2col) keep lower thresholds.
// Whether a loop is split never changes its result: the reductions sum in fixed chunks (see their comments).
#pragma once
#include <cstdint>

namespace mtinet::kernels {

constexpr int64_t kMinParallelElements = int64_t(1) << 18;

}  // namespace mtinet::kernels
