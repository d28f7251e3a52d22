#include "eval/metric_saliency.h"

#include <algorithm>
#include <cmath>

#include "eval/metric_input.h"

namespace mtinet {

namespace {

constexpr int kThresholds = 15;
constexpr double kEps = 1e-12;  // the reference's precision/recall/F denominators

// One image's per-threshold IoU, precision and recall.
struct ImageScores {
  std::vector<double> iou, prec, rec;
};

double f_measure(double p, double r, double beta2) { return (1 + beta2) * p * r / (beta2 * p + r + kEps); }

}  // namespace

SaliencyMetric::SaliencyMetric() {
  for (int j = 0; j < kThresholds; ++j) thresholds_.push_back(0.2 + (0.9 - 0.2) * j / (kThresholds - 1));
  reset();
}

void SaliencyMetric::reset() {
  sum_iou_.assign(thresholds_.size(), 0.0);
  sum_prec_.assign(thresholds_.size(), 0.0);
  sum_rec_.assign(thresholds_.size(), 0.0);
  n_images_ = 0;
}

void SaliencyMetric::update(const Tensor& pred, const Tensor& label) {
  int64_t channels = check_nhwc("saliency metric", "prediction", pred, -1);
  MTINET_CHECK(channels == 1 || channels == 2, "saliency metric: prediction must have 1 (logit) or 2 (two-class "
               "logits) channels, got ", pred.describe());
  check_label_matches("saliency metric", pred, label, 1);
  FloatReader p = float_reader("saliency metric: prediction", pred);
  FloatReader y = float_reader("saliency metric: label", label);
  const int64_t n = pred.dim(0), pixels = pred.dim(1) * pred.dim(2);
  const size_t t_count = thresholds_.size();

  std::vector<ImageScores> per_image(static_cast<size_t>(n));
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < n; ++b) {
    // Pixels above threshold j are those with rank > j, rank = how many thresholds lie strictly below the
    // probability; count salient and non-salient pixels per rank, then accumulate from the top.
    std::vector<int64_t> gt_at(t_count + 1, 0), bg_at(t_count + 1, 0);
    int64_t gt_total = 0;
    for (int64_t i = b * pixels; i < (b + 1) * pixels; ++i) {
      // softmax channel 1 of two logits is the sigmoid of their difference
      double prob = channels == 1 ? logistic(p[i]) : logistic(p[2 * i + 1] - p[2 * i]);
      size_t rank = size_t(std::lower_bound(thresholds_.begin(), thresholds_.end(), prob) - thresholds_.begin());
      bool salient = y[i] > 0.5;
      (salient ? gt_at : bg_at)[rank] += 1;
      gt_total += salient;
    }
    ImageScores s;
    int64_t tp = 0, fp = 0;
    std::vector<int64_t> tps(t_count), fps(t_count);
    for (size_t j = t_count; j-- > 0;) {  // predicted positive at threshold j: rank > j
      tp += gt_at[j + 1];
      fp += bg_at[j + 1];
      tps[j] = tp;
      fps[j] = fp;
    }
    for (size_t j = 0; j < t_count; ++j) {
      double tpj = double(tps[j]), fpj = double(fps[j]), fnj = double(gt_total - tps[j]);
      bool both_empty = gt_total == 0 && tps[j] + fps[j] == 0;
      s.iou.push_back(both_empty ? 1.0 : tpj / (tpj + fpj + fnj));
      s.prec.push_back(tpj / (tpj + fpj + kEps));
      s.rec.push_back(tpj / (tpj + fnj + kEps));
    }
    per_image[size_t(b)] = std::move(s);
  }
  for (const ImageScores& s : per_image) {
    for (size_t j = 0; j < t_count; ++j) {
      sum_iou_[j] += s.iou[j];
      sum_prec_[j] += s.prec[j];
      sum_rec_[j] += s.rec[j];
    }
  }
  n_images_ += n;
}

nlohmann::json SaliencyMetric::results() const {
  double n = double(std::max<int64_t>(n_images_, 1));
  std::vector<double> miou, mprec, mrec, f1, f03;
  for (size_t j = 0; j < thresholds_.size(); ++j) {
    miou.push_back(sum_iou_[j] / n);
    mprec.push_back(sum_prec_[j] / n);
    mrec.push_back(sum_rec_[j] / n);
    f1.push_back(f_measure(mprec[j], mrec[j], 1.0));
    f03.push_back(f_measure(mprec[j], mrec[j], 0.3));
  }
  nlohmann::json r;
  r["mIoU"] = *std::max_element(miou.begin(), miou.end());
  r["maxF"] = *std::max_element(f1.begin(), f1.end());
  r["maxF_beta2_0.3"] = *std::max_element(f03.begin(), f03.end());
  r["thresholds"] = thresholds_;
  r["mIoUs"] = miou;
  r["mPrec"] = mprec;
  r["mRec"] = mrec;
  r["F"] = f1;
  r["n_images"] = n_images_;
  return r;
}

MetricState SaliencyMetric::state() const {
  MetricState s;
  s.counts = {n_images_};
  for (const std::vector<double>* v : {&sum_iou_, &sum_prec_, &sum_rec_}) s.sums.insert(s.sums.end(), v->begin(), v->end());
  return s;
}

void SaliencyMetric::load_state(const MetricState& s) {
  size_t k = thresholds_.size();
  s.check_size("saliency metric", 1, 3 * k);
  n_images_ = s.counts[0];
  auto part = [&](size_t i) {
    return std::vector<double>(s.sums.begin() + std::ptrdiff_t(i * k), s.sums.begin() + std::ptrdiff_t((i + 1) * k));
  };
  sum_iou_ = part(0), sum_prec_ = part(1), sum_rec_ = part(2);
}

}  // namespace mtinet
