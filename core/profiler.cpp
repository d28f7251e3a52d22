// The op-level profiler's accumulators (see core/profiler.h). Recording takes a mutex: it only happens while
// profiling is on, when the per-call synchronisation dominates anyway.
#include "core/profiler.h"

#include <algorithm>
#include <exception>
#include <map>
#include <mutex>
#include <utility>

namespace mtinet::profiler {

namespace detail {
std::atomic<bool> timing_on{false};
std::atomic<bool> macs_on{false};
}  // namespace detail

namespace {

struct State {
  std::mutex mutex;
  std::map<std::pair<std::string, int>, KernelStat> kernels;  // by (name, device)
  std::vector<MacRecord> macs;
};

State& state() {
  static State s;
  return s;
}

thread_local int scope_depth = 0;

}  // namespace

void set_timing(bool on) { detail::timing_on.store(on, std::memory_order_relaxed); }
void set_macs(bool on) { detail::macs_on.store(on, std::memory_order_relaxed); }

void reset() {
  std::lock_guard<std::mutex> lock(state().mutex);
  state().kernels.clear();
  state().macs.clear();
}

std::vector<KernelStat> kernel_stats() {
  std::vector<KernelStat> out;
  {
    std::lock_guard<std::mutex> lock(state().mutex);
    for (const auto& kv : state().kernels) out.push_back(kv.second);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const KernelStat& a, const KernelStat& b) { return a.total_ms > b.total_ms; });
  return out;
}

std::vector<MacRecord> mac_records() {
  std::lock_guard<std::mutex> lock(state().mutex);
  return state().macs;
}

int64_t total_macs() {
  std::lock_guard<std::mutex> lock(state().mutex);
  int64_t total = 0;
  for (const MacRecord& r : state().macs) total += r.macs;
  return total;
}

void record_macs(const char* op, const Tensor& weight, const Shape& output, int64_t macs) {
  if (!macs_enabled()) return;
  std::lock_guard<std::mutex> lock(state().mutex);
  state().macs.push_back(MacRecord{op, &weight.impl(), output, macs});
}

void KernelScope::begin(const char* name, Device device) {
  active_ = true;
  uncaught_at_begin_ = std::uncaught_exceptions();
  if (scope_depth++ > 0) return;  // inside another kernel's scope: that one gets the time
  name_ = name;
  device_ = device;
  synchronize(device_);
  start_ = std::chrono::steady_clock::now();
}

void KernelScope::end() {
  --scope_depth;
  // Not recorded when the kernel threw: its time means nothing, and a sync that threw again would terminate.
  if (!name_ || std::uncaught_exceptions() > uncaught_at_begin_) return;
  synchronize(device_);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
  std::lock_guard<std::mutex> lock(state().mutex);
  KernelStat& s = state().kernels[{name_, int(device_)}];
  s.name = name_;
  s.device = device_;
  s.calls += 1;
  s.total_ms += ms;
}

ProfileGuard::ProfileGuard(bool timing, bool macs) : timing_before_(timing_enabled()), macs_before_(macs_enabled()) {
  set_timing(timing);
  set_macs(macs);
}

ProfileGuard::~ProfileGuard() {
  set_timing(timing_before_);
  set_macs(macs_before_);
}

}  // namespace mtinet::profiler
