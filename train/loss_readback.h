// The training loop's per-step losses, read back to the host `lag` steps late so that no step waits for the device.
//
// A step's total and per-task losses are copied, on their device, into one small tensor whose single copy to the
// host is queued at once (core/readback.h). It is collected `lag` steps later, when the device has long finished
// it: the host stays at most `lag` steps ahead of the device, and the step costs no synchronisation. Records come
// out in step order with exactly the values an immediate read gives, only later.
//
// lag 0 collects each step's losses at once, before its backward pass: on the CPU, where a read costs nothing,
// training then behaves exactly as with item() after every forward, and a NaN loss is caught before its update.
// With lag L a NaN is caught at most L steps late (the trainer drains the queue before any checkpoint).
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/readback.h"
#include "core/tensor.h"

namespace mtinet {

// What the training log says about one step.
struct StepRecord {
  int64_t step = 0;  // 1-based: the number of updates taken once this step's is applied
  int64_t epoch = 0;
  double lr = 0;
  std::map<std::string, double> weights;  // the loss balancer's weights as the step used them
  double images_per_s = 0;                // known when the step ends (end())
  double loss = 0;                        // the total loss, read back from the device
  std::map<std::string, double> task_losses;
};

class LossReadback {
 public:
  explicit LossReadback(int64_t lag);
  int64_t lag() const { return lag_; }
  // Applied to every step's values [total, task losses in name order] as they are read, before anyone sees them:
  // data-parallel training averages them over the ranks there (each rank reads the same steps at the same calls).
  void set_reducer(std::function<void(std::vector<double>&)> reduce) { reduce_ = std::move(reduce); }

  // Begins a step: gathers its losses (0-d tensors of one dtype and device) into one tensor on their device and
  // queues that tensor's copy to the host. `record` carries the step's host-side facts; its losses are filled in
  // when read.
  void begin(StepRecord record, const Tensor& total, const std::map<std::string, Tensor>& task_losses);
  // Ends the newest step: its speed is known only after its update.
  void end(double images_per_s);
  // Waits for the losses of every step but the newest `lag` (of every step with `all`) and returns the records this
  // call read, oldest first, so the caller can check them before anything else happens.
  std::vector<StepRecord> read(bool all);
  // Removes and returns the steps both read and ended, oldest first: those the log may show now.
  std::vector<StepRecord> take_finished();
  size_t pending() const { return entries_.size(); }

 private:
  struct Entry {
    StepRecord record;
    std::unique_ptr<HostReadback> copy;  // the gathered losses on their way to the host; null once read
    bool ended = false;
  };

  int64_t lag_;
  std::function<void(std::vector<double>&)> reduce_;
  std::deque<Entry> entries_;  // oldest first
  // Readbacks of steps already read, for later steps: their page-locked buffers are costly to make and free.
  std::vector<std::unique_ptr<HostReadback>> spare_;
};

}  // namespace mtinet
