// Depth metrics pooled over all valid pixels (label != 0) of the split, as the reference computes RMSE and
// log-RMSE, plus the usual abs-rel, sq-rel and threshold accuracies. The prediction is clamped to at least 1e-9
// before every metric, as the reference does (its output is clamped at 0, then at 1e-9 before the log), so
// log-RMSE uses log(max(pred, 1e-9)).
#pragma once
#include <cstdint>

#include "eval/metric.h"

namespace mtinet {

class DepthMetric : public Metric {
 public:
  // pred: {N, H, W, 1} metres; label: {N, H, W, 1} (or {N, H, W}) metres, 0 = invalid.
  void update(const Tensor& pred, const Tensor& label) override;
  // {"rmse", "log_rmse", "abs_rel", "sq_rel", "delta1", "delta2", "delta3", "n_valid"}: delta_k is the fraction
  // (in [0, 1]) of valid pixels with max(pred/label, label/pred) < 1.25^k.
  nlohmann::json results() const override;
  void reset() override;
  MetricState state() const override;
  void load_state(const MetricState& s) override;

 private:
  double sq_err_ = 0, sq_log_err_ = 0, abs_rel_ = 0, sq_rel_ = 0;
  int64_t n_valid_ = 0, within_[3] = {0, 0, 0};
};

}  // namespace mtinet
