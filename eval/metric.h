// The interface of an evaluation metric: an accumulator fed batch by batch, whose results() summarise the split.
#pragma once
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/tensor.h"

namespace mtinet {

// A metric's accumulator as numbers whose sum over parts of a split is the accumulator of the whole split (counts
// and sums only; results() computes every ratio from them). Sharded evaluation sums the processes' states.
struct MetricState {
  std::vector<int64_t> counts;
  std::vector<double> sums;
  // Elementwise; both states must come from metrics of the same kind and settings.
  void add(const MetricState& other);
  // Throws unless this state has `counts` counts and `sums` sums; `metric` names the metric in the message.
  void check_size(const char* metric, size_t counts, size_t sums) const;
};

class Metric {
 public:
  virtual ~Metric() = default;
  // pred: the network's raw output for one batch, NHWC {N, H, W, C} on the CPU, at the label's resolution.
  // label: that batch's label tensor as the loader produces it.
  virtual void update(const Tensor& pred, const Tensor& label) = 0;
  // The split's results so far, keyed as the reference's JSON files are (e.g. "mIoU", "rmse", "mean", "odsF").
  virtual nlohmann::json results() const = 0;
  virtual void reset() = 0;
  // The accumulator (see MetricState), and loading one: load_state(a + b) then results() is the metric of the
  // samples a and b saw together.
  virtual MetricState state() const = 0;
  virtual void load_state(const MetricState& s) = 0;
};

}  // namespace mtinet
