// Surface-normal metrics over the valid pixels (label not the zero vector) of the split, as the reference's offline
// evaluation computes them: prediction normalised (x / max(|x|, 1e-12)), label normalised, angle in degrees =
// acos(clamp(dot, -1, 1)); mean, median, RMSE of the angles and the percentage of angles below 11.25, 22.5, 30.
// The split's angles are not stored: the median comes from a histogram of 0.001-degree bins that also keeps each
// bin's sum, so it is exact when the middle angle's bin holds equal values and within 0.001 degree otherwise.
#pragma once
#include <cstdint>
#include <vector>

#include "eval/metric.h"

namespace mtinet {

class NormalsMetric : public Metric {
 public:
  NormalsMetric();
  // pred: {N, H, W, 3} raw output; label: {N, H, W, 3}, the zero vector = invalid.
  void update(const Tensor& pred, const Tensor& label) override;
  // {"mean", "median", "rmse" (degrees), "11.25", "22.5", "30" (percent), "n_valid"}. Note: the reference's online
  // NormalsMeter reports the mean under "rmse" (a bug); this is the true root mean square angle.
  nlohmann::json results() const override;
  void reset() override;
  MetricState state() const override;
  void load_state(const MetricState& s) override;

 private:
  double median() const;

  double sum_ = 0, sum_sq_ = 0;
  int64_t n_valid_ = 0, below_[3] = {0, 0, 0};
  std::vector<int64_t> bin_count_;
  std::vector<double> bin_sum_;
};

}  // namespace mtinet
