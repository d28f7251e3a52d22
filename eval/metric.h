// The interface of an evaluation metric: an accumulator fed batch by batch, whose results() summarise the split.
#pragma once
#include <nlohmann/json.hpp>

#include "core/tensor.h"

namespace mtinet {

class Metric {
 public:
  virtual ~Metric() = default;
  // pred: the network's raw output for one batch, NHWC {N, H, W, C} on the CPU, at the label's resolution.
  // label: that batch's label tensor as the loader produces it.
  virtual void update(const Tensor& pred, const Tensor& label) = 0;
  // The split's results so far, keyed as the reference's JSON files are (e.g. "mIoU", "rmse", "mean", "odsF").
  virtual nlohmann::json results() const = 0;
  virtual void reset() = 0;
};

}  // namespace mtinet
