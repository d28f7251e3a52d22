#include "eval/metric_edge.h"

#include <cmath>

#include "eval/edge_matching.h"
#include "eval/metric_input.h"

namespace mtinet {

EdgePRF edge_prf(int64_t matched, int64_t pred, int64_t gt) {
  EdgePRF e{0, 0, 0};
  if (gt == 0) { e.r = 1; e.p = 0; }
  else if (pred == 0) { e.r = 0; e.p = 1; }
  else { e.r = double(matched) / double(gt); e.p = double(matched) / double(pred); }
  e.f = e.p + e.r == 0 ? 0.0 : 2 * e.p * e.r / (e.p + e.r);
  return e;
}

EdgeMetric::EdgeMetric(double max_dist, int num_thresholds, bool thin) : max_dist_(max_dist), thin_(thin) {
  MTINET_CHECK(max_dist >= 0, "edge metric: max_dist must be >= 0, got ", max_dist);
  MTINET_CHECK(num_thresholds >= 1, "edge metric: need at least one threshold, got ", num_thresholds);
  // edgesEvalImg's linspace(1/(K+1), 1-1/(K+1), K): 0.01 ... 0.99 for K = 99.
  for (int k = 1; k <= num_thresholds; ++k) thresholds_.push_back(double(k) / double(num_thresholds + 1));
  reset();
}

void EdgeMetric::reset() {
  cnt_.assign(thresholds_.size(), 0);
  sum_p_.assign(thresholds_.size(), 0);
  sum_r_ = ois_cnt_ = ois_sum_p_ = ois_sum_r_ = n_images_ = 0;
}

void EdgeMetric::update(const Tensor& pred, const Tensor& label) {
  check_nhwc("edge metric", "prediction", pred, 1);
  check_label_matches("edge metric", pred, label, 1);
  FloatReader p = float_reader("edge metric: prediction", pred);
  FloatReader y = float_reader("edge metric: label", label);
  const int64_t n = pred.dim(0), h = pred.dim(1), w = pred.dim(2);
  const double radius = max_dist_ * std::sqrt(double(h * h + w * w));

  std::vector<EdgeImageCounts> per_image(static_cast<size_t>(n));
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t b = 0; b < n; ++b) {
    std::vector<double> score(static_cast<size_t>(h * w));
    std::vector<uint8_t> gt(static_cast<size_t>(h * w));
    for (int64_t i = 0; i < h * w; ++i) {
      score[size_t(i)] = logistic(p[b * h * w + i]);
      gt[size_t(i)] = y[b * h * w + i] >= 0.5;
    }
    per_image[size_t(b)] = match_edges(score.data(), gt.data(), h, w, thresholds_, radius, thin_);
  }
  for (const EdgeImageCounts& c : per_image) {
    size_t best = 0;
    double best_f = -1;
    for (size_t j = 0; j < thresholds_.size(); ++j) {
      cnt_[j] += c.matched[j];
      sum_p_[j] += c.pred[j];
      double f = edge_prf(c.matched[j], c.pred[j], c.gt).f;
      if (f > best_f) { best_f = f; best = j; }  // the first maximum, as MATLAB's max
    }
    sum_r_ += c.gt;
    ois_cnt_ += c.matched[best];
    ois_sum_p_ += c.pred[best];
    ois_sum_r_ += c.gt;
    ++n_images_;
  }
}

nlohmann::json EdgeMetric::results() const {
  std::vector<double> prec, rec, f;
  size_t best = 0;
  for (size_t j = 0; j < thresholds_.size(); ++j) {
    EdgePRF e = edge_prf(cnt_[j], sum_p_[j], sum_r_);
    prec.push_back(e.p);
    rec.push_back(e.r);
    f.push_back(e.f);
    if (e.f > f[best]) best = j;
  }
  EdgePRF ois = edge_prf(ois_cnt_, ois_sum_p_, ois_sum_r_);
  nlohmann::json r;
  r["odsF"] = f[best];
  r["odsP"] = prec[best];
  r["odsR"] = rec[best];
  r["odsT"] = thresholds_[best];
  r["oisF"] = ois.f;
  r["oisP"] = ois.p;
  r["oisR"] = ois.r;
  r["thresholds"] = thresholds_;
  r["precision"] = prec;
  r["recall"] = rec;
  r["F"] = f;
  r["n_images"] = n_images_;
  return r;
}

MetricState EdgeMetric::state() const {
  MetricState s;
  s.counts = cnt_;
  s.counts.insert(s.counts.end(), sum_p_.begin(), sum_p_.end());
  s.counts.insert(s.counts.end(), {sum_r_, ois_cnt_, ois_sum_p_, ois_sum_r_, n_images_});
  return s;
}

void EdgeMetric::load_state(const MetricState& s) {
  size_t k = thresholds_.size();
  s.check_size("edge metric", 2 * k + 5, 0);
  cnt_.assign(s.counts.begin(), s.counts.begin() + std::ptrdiff_t(k));
  sum_p_.assign(s.counts.begin() + std::ptrdiff_t(k), s.counts.begin() + std::ptrdiff_t(2 * k));
  const int64_t* rest = s.counts.data() + 2 * k;
  sum_r_ = rest[0], ois_cnt_ = rest[1], ois_sum_p_ = rest[2], ois_sum_r_ = rest[3], n_images_ = rest[4];
}

}  // namespace mtinet
