// An op-level profiler, off by default (how to profile and read the output: docs/performance.md). Two switches:
// - kernel timing: every kernel call made through MTINET_ON_DEVICE (kernels/dispatch.h) is timed by a KernelScope
//   and accumulated per kernel name and device (calls, total wall ms). On CUDA the device is synchronised before
//   each clock read (through a hook the CUDA runtime registers), so timings are exact but the run is slowed.
// - MAC counting: ops::conv2d and ops::linear report their forward multiply-accumulates, attributed to the weight
//   tensor (its TensorImpl) with the output shape, so a caller can map them to named parameters.
// When both are off (the default) a KernelScope costs one relaxed atomic load and nothing else is recorded.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/tensor.h"

namespace mtinet::profiler {

namespace detail {
extern std::atomic<bool> timing_on;
extern std::atomic<bool> macs_on;
}  // namespace detail

inline bool timing_enabled() { return detail::timing_on.load(std::memory_order_relaxed); }
inline bool macs_enabled() { return detail::macs_on.load(std::memory_order_relaxed); }
void set_timing(bool on);
void set_macs(bool on);
void reset();  // clears every accumulated kernel time and MAC record

struct KernelStat {
  std::string name;
  Device device = Device::CPU;
  int64_t calls = 0;
  double total_ms = 0;
};
// Accumulated kernel times, longest total first.
std::vector<KernelStat> kernel_stats();

struct MacRecord {
  const char* op = "";                  // "conv2d" or "linear"
  const TensorImpl* weight = nullptr;   // identifies the weight parameter (compare with Tensor::impl())
  Shape output;                         // the op's output shape
  int64_t macs = 0;                     // forward multiply-accumulates of this call
};
// Every conv2d/linear call since the last reset, in call order.
std::vector<MacRecord> mac_records();
int64_t total_macs();
void record_macs(const char* op, const Tensor& weight, const Shape& output, int64_t macs);

// Records the wall time of one kernel call while timing is on. Nested scopes (a kernel entry point that calls
// another) attribute the time to the outermost one only, so totals never double count.
class KernelScope {
 public:
  KernelScope(const char* name, Device device) {
    if (timing_enabled()) begin(name, device);
  }
  // May throw: the closing device sync reports a kernel's asynchronous CUDA error (skipped while unwinding).
  ~KernelScope() noexcept(false) {
    if (active_) end();
  }
  KernelScope(const KernelScope&) = delete;
  KernelScope& operator=(const KernelScope&) = delete;

 private:
  void begin(const char* name, Device device);
  void end();
  const char* name_ = nullptr;
  Device device_ = Device::CPU;
  bool active_ = false;
  int uncaught_at_begin_ = 0;
  std::chrono::steady_clock::time_point start_;
};

// Turns profiling on for a scope and restores the previous switches afterwards.
class ProfileGuard {
 public:
  ProfileGuard(bool timing, bool macs);
  ~ProfileGuard();
  ProfileGuard(const ProfileGuard&) = delete;
  ProfileGuard& operator=(const ProfileGuard&) = delete;

 private:
  bool timing_before_, macs_before_;
};

}  // namespace mtinet::profiler
