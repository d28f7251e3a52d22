// Fewer compute threads while the machine is busy, as many as configured when it is not.
//
// When another process keeps a core busy, the scheduler gives mtinet's threads about the cores left, not one each,
// and every parallel region then waits for a thread that is not running: measured on the 2-core build machine with
// one busy loop beside it, a batch-2 256x320 training step took 673 ms on 2 threads against 657 on 1 (and the
// process used 0.99 CPU seconds per second on 2 threads, against 1.63 when the machine was idle). So the governor
// measures, per step, how many of its threads really ran: the CPU time the OpenMP threads used over the step's
// wall time. When that is about one core less than it runs, it runs fewer; while it runs fewer, it tries the
// configured count again every kProbeEvery steps. Results do not depend on the thread count (every CPU kernel
// splits its work the same way whatever the count), so switching changes only the speed.
#pragma once
#include <time.h>

#include <chrono>
#include <cstdint>
#include <vector>

namespace mtinet {

// The thread count for the next step: `parallelism` is the CPU seconds the compute threads used per wall second
// of the last step. Rounds it, with a margin for the parts of a step that run on one thread, into [1, configured].
int governed_threads(int configured, double parallelism);

class ThreadGovernor {
 public:
  static constexpr int kProbeEvery = 16;

  // configured: the thread count asked for (compute_threads()); 1 turns the governor off, as does enabled = false
  // (CUDA runs, where the CPU threads do little).
  ThreadGovernor(int configured, bool enabled);
  ~ThreadGovernor();  // restores the configured count
  ThreadGovernor(const ThreadGovernor&) = delete;
  ThreadGovernor& operator=(const ThreadGovernor&) = delete;

  void step_started();
  void step_finished();
  int current() const { return current_; }
  int configured() const { return configured_; }
  int64_t steps_below_configured() const { return steps_below_; }  // steps run with fewer threads so far

 private:
  std::vector<double> thread_cpu_seconds() const;  // per OpenMP thread of the configured team

  int configured_, current_;
  bool enabled_;
  int since_probe_ = 0;
  int64_t steps_below_ = 0;
  std::vector<clockid_t> clocks_;  // each team thread's CPU clock
  std::vector<double> cpu_at_start_;
  std::chrono::steady_clock::time_point wall_at_start_;
};

}  // namespace mtinet
