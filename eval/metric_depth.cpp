#include "eval/metric_depth.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "eval/metric_input.h"

namespace mtinet {

namespace {

constexpr double kMinDepth = 1e-9;  // the reference's clamp before the log

// One image's sums, so the batch can be split over threads and still be added in a fixed order.
struct DepthSums {
  double sq_err = 0, sq_log_err = 0, abs_rel = 0, sq_rel = 0;
  int64_t n_valid = 0, within[3] = {0, 0, 0};
};

}  // namespace

void DepthMetric::reset() { *this = DepthMetric(); }

void DepthMetric::update(const Tensor& pred, const Tensor& label) {
  check_nhwc("depth metric", "prediction", pred, 1);
  check_label_matches("depth metric", pred, label, 1);
  FloatReader p = float_reader("depth metric: prediction", pred);
  FloatReader y = float_reader("depth metric: label", label);
  const int64_t n = pred.dim(0), pixels = pred.dim(1) * pred.dim(2);
  const double thresholds[3] = {1.25, 1.25 * 1.25, 1.25 * 1.25 * 1.25};

  std::vector<DepthSums> per_image(static_cast<size_t>(n));
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < n; ++b) {
    DepthSums s;
    for (int64_t i = b * pixels; i < (b + 1) * pixels; ++i) {
      double g = y[i];
      if (g == 0) continue;
      double d = std::max(p[i], kMinDepth);
      double diff = d - g;
      double log_diff = std::log(g) - std::log(d);
      s.sq_err += diff * diff;
      s.sq_log_err += log_diff * log_diff;
      s.abs_rel += std::abs(diff) / g;
      s.sq_rel += diff * diff / g;
      double ratio = std::max(d / g, g / d);
      for (int k = 0; k < 3; ++k) s.within[k] += ratio < thresholds[k];
      ++s.n_valid;
    }
    per_image[size_t(b)] = s;
  }
  for (const DepthSums& s : per_image) {
    sq_err_ += s.sq_err;
    sq_log_err_ += s.sq_log_err;
    abs_rel_ += s.abs_rel;
    sq_rel_ += s.sq_rel;
    n_valid_ += s.n_valid;
    for (int k = 0; k < 3; ++k) within_[k] += s.within[k];
  }
}

nlohmann::json DepthMetric::results() const {
  nlohmann::json r;
  double n = double(std::max<int64_t>(n_valid_, 1));  // no valid pixel: all sums are 0, report 0
  r["rmse"] = std::sqrt(sq_err_ / n);
  r["log_rmse"] = std::sqrt(sq_log_err_ / n);
  r["abs_rel"] = abs_rel_ / n;
  r["sq_rel"] = sq_rel_ / n;
  r["delta1"] = double(within_[0]) / n;
  r["delta2"] = double(within_[1]) / n;
  r["delta3"] = double(within_[2]) / n;
  r["n_valid"] = n_valid_;
  return r;
}

MetricState DepthMetric::state() const {
  return {{n_valid_, within_[0], within_[1], within_[2]}, {sq_err_, sq_log_err_, abs_rel_, sq_rel_}};
}

void DepthMetric::load_state(const MetricState& s) {
  s.check_size("depth metric", 4, 4);
  n_valid_ = s.counts[0];
  for (int k = 0; k < 3; ++k) within_[k] = s.counts[size_t(1 + k)];
  sq_err_ = s.sums[0], sq_log_err_ = s.sums[1], abs_rel_ = s.sums[2], sq_rel_ = s.sums[3];
}

}  // namespace mtinet
