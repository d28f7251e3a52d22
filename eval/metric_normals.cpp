#include "eval/metric_normals.h"

#include <algorithm>
#include <cmath>

#include "eval/metric_input.h"

namespace mtinet {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kBinWidth = 1e-3;  // degrees
constexpr int64_t kBins = int64_t(180.0 / kBinWidth) + 1;
constexpr double kLimits[3] = {11.25, 22.5, 30.0};

int64_t bin_of(double angle) { return std::min(kBins - 1, std::max<int64_t>(0, int64_t(angle / kBinWidth))); }

}  // namespace

NormalsMetric::NormalsMetric() { reset(); }

void NormalsMetric::reset() {
  sum_ = sum_sq_ = 0;
  n_valid_ = 0;
  std::fill(below_, below_ + 3, 0);
  bin_count_.assign(size_t(kBins), 0);
  bin_sum_.assign(size_t(kBins), 0.0);
}

void NormalsMetric::update(const Tensor& pred, const Tensor& label) {
  check_nhwc("normals metric", "prediction", pred, 3);
  check_nhwc("normals metric", "label", label, 3);
  check_label_matches("normals metric", pred, label, 3);
  FloatReader p = float_reader("normals metric: prediction", pred);
  FloatReader y = float_reader("normals metric: label", label);
  const int64_t pixels = pred.dim(0) * pred.dim(1) * pred.dim(2);

  // Angles per pixel in parallel (-1 = invalid), then sequential accumulation for a fixed summation order.
  std::vector<double> angles(static_cast<size_t>(pixels));
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < pixels; ++i) {
    double a[3], g[3];
    for (int c = 0; c < 3; ++c) { a[c] = p[3 * i + c]; g[c] = y[3 * i + c]; }
    double gn = std::sqrt(g[0] * g[0] + g[1] * g[1] + g[2] * g[2]);
    if (gn == 0) { angles[size_t(i)] = -1; continue; }
    double an = std::max(std::sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]), 1e-12);  // F.normalize's eps
    gn += 1e-12;                                                                     // the reference's label eps
    double dot = (a[0] * g[0] + a[1] * g[1] + a[2] * g[2]) / (an * gn);
    angles[size_t(i)] = std::acos(std::clamp(dot, -1.0, 1.0)) * (180.0 / kPi);
  }
  double sum = 0, sum_sq = 0;
  for (double angle : angles) {
    if (angle < 0) continue;
    sum += angle;
    sum_sq += angle * angle;
    ++n_valid_;
    for (int k = 0; k < 3; ++k) below_[k] += angle < kLimits[k];
    int64_t bin = bin_of(angle);
    ++bin_count_[size_t(bin)];
    bin_sum_[size_t(bin)] += angle;
  }
  sum_ += sum;
  sum_sq_ += sum_sq;
}

double NormalsMetric::median() const {
  if (n_valid_ == 0) return 0;
  // The k-th smallest angle (0-based) approximated by the mean of its bin.
  auto kth = [this](int64_t k) {
    int64_t seen = 0;
    for (int64_t b = 0; b < kBins; ++b) {
      seen += bin_count_[size_t(b)];
      if (seen > k) return bin_sum_[size_t(b)] / double(bin_count_[size_t(b)]);
    }
    return 180.0;
  };
  if (n_valid_ % 2 == 1) return kth(n_valid_ / 2);
  return 0.5 * (kth(n_valid_ / 2 - 1) + kth(n_valid_ / 2));  // np.median's mean of the middle two
}

nlohmann::json NormalsMetric::results() const {
  double n = double(std::max<int64_t>(n_valid_, 1));
  nlohmann::json r;
  r["mean"] = sum_ / n;
  r["median"] = median();
  r["rmse"] = std::sqrt(sum_sq_ / n);
  r["11.25"] = 100.0 * double(below_[0]) / n;
  r["22.5"] = 100.0 * double(below_[1]) / n;
  r["30"] = 100.0 * double(below_[2]) / n;
  r["n_valid"] = n_valid_;
  return r;
}

MetricState NormalsMetric::state() const {
  MetricState s;
  s.counts = {n_valid_, below_[0], below_[1], below_[2]};
  s.counts.insert(s.counts.end(), bin_count_.begin(), bin_count_.end());
  s.sums = {sum_, sum_sq_};
  s.sums.insert(s.sums.end(), bin_sum_.begin(), bin_sum_.end());
  return s;
}

void NormalsMetric::load_state(const MetricState& s) {
  s.check_size("normals metric", 4 + size_t(kBins), 2 + size_t(kBins));
  n_valid_ = s.counts[0];
  for (int k = 0; k < 3; ++k) below_[k] = s.counts[size_t(1 + k)];
  bin_count_.assign(s.counts.begin() + 4, s.counts.end());
  sum_ = s.sums[0], sum_sq_ = s.sums[1];
  bin_sum_.assign(s.sums.begin() + 2, s.sums.end());
}

}  // namespace mtinet
