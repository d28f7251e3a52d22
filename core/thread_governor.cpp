#include "core/thread_governor.h"

#include <omp.h>
#include <pthread.h>
#include <time.h>

#include <algorithm>

namespace mtinet {

int governed_threads(int configured, double parallelism) {
  if (configured <= 1) return 1;
  // + 0.8: a step that used 1.2 cores on 2 threads still gains from the second; 0.99 (one core's worth) does not.
  // A step on fewer threads shows at most that many cores of parallelism, so this never raises the count: the
  // governor's periodic probe at the configured count does.
  return std::clamp(int(parallelism + 0.8), 1, configured);
}

ThreadGovernor::ThreadGovernor(int configured, bool enabled)
    : configured_(std::max(configured, 1)), current_(configured_), enabled_(enabled && configured > 1) {
  if (!enabled_) return;
  // The CPU clock of each thread of the configured team, found once: reading them later wakes no thread (a region
  // per step would wait for a sleeping thread to be scheduled, which is slowest exactly when the cores are busy).
  // libgomp keeps its pool's threads alive when later regions use fewer of them.
  clocks_.assign(size_t(configured_), clockid_t{});
  std::vector<int> ok(size_t(configured_), 0);
#pragma omp parallel num_threads(configured_)
  {
    const size_t slot = size_t(omp_get_thread_num());
    ok[slot] = pthread_getcpuclockid(pthread_self(), &clocks_[slot]) == 0;
  }
  for (int good : ok) enabled_ = enabled_ && good;
}

ThreadGovernor::~ThreadGovernor() {
  if (enabled_) omp_set_num_threads(configured_);
}

std::vector<double> ThreadGovernor::thread_cpu_seconds() const {
  std::vector<double> seconds(clocks_.size(), 0.0);
  for (size_t i = 0; i < clocks_.size(); ++i) {
    timespec t{};
    if (clock_gettime(clocks_[i], &t) == 0) seconds[i] = double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
  }
  return seconds;
}

void ThreadGovernor::step_started() {
  if (!enabled_) return;
  cpu_at_start_ = thread_cpu_seconds();
  wall_at_start_ = std::chrono::steady_clock::now();
}

void ThreadGovernor::step_finished() {
  if (!enabled_ || cpu_at_start_.empty()) return;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_at_start_).count();
  const std::vector<double> cpu = thread_cpu_seconds();
  double used = 0;
  // Each team slot is the same OS thread from one region to the next (libgomp keeps its pool); should it not be,
  // a negative difference counts as nothing rather than cancelling another thread's time.
  for (size_t i = 0; i < cpu.size(); ++i) used += std::max(0.0, cpu[i] - cpu_at_start_[i]);
  if (current_ < configured_) ++steps_below_;
  int next = current_;
  if (current_ < configured_ && ++since_probe_ >= kProbeEvery) {
    next = configured_;  // try the full count again
    since_probe_ = 0;
  } else if (wall > 0) {
    next = governed_threads(configured_, used / wall);
  }
  if (next != current_) {
    current_ = next;
    omp_set_num_threads(current_);
  }
}

}  // namespace mtinet
