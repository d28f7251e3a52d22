// Native edge F-measures (odsF, oisF) as the reference's SEISM evaluation computes them: the edge probability
// sigmoid(logit) is binarised (p >= t) at K thresholds (default 99: 0.01 ... 0.99, the reference's parameter file);
// each binary map is thinned to one-pixel strokes (SEISM's edgesEvalImg: bwmorph 'thin', see
// eval/edge_thinning.h; optional); its pixels are matched one-to-one to ground-truth edge pixels within
// max_dist * image diagonal (eval/edge_matching.h: maximum-cardinality matching, how it relates to
// correspondPixels); per threshold the counts are pooled over the split, and odsF is the best F = 2PR/(P+R) over
// thresholds of the pooled precision and recall. oisF pools each image's counts at that image's best threshold.
// Out of scope: non-maximum suppression of the probability map (the reference applies none: its sigmoid PNGs go
// to SEISM as they are), and the reference's 8-bit quantisation of the probability before thresholding.
#pragma once
#include <cstdint>
#include <vector>

#include "eval/metric.h"

namespace mtinet {

class EdgeMetric : public Metric {
 public:
  // max_dist: the tolerance as a fraction of the image diagonal (0.011 NYUD, 0.0075 PASCAL).
  // thin: thin each binarised map before matching (SEISM does; off is faster and nests the maps across thresholds).
  explicit EdgeMetric(double max_dist, int num_thresholds = 99, bool thin = true);
  // pred: {N, H, W, 1} logit; label: {N, H, W, 1} (or {N, H, W}), >= 0.5 = edge.
  void update(const Tensor& pred, const Tensor& label) override;
  // {"odsF", "odsP", "odsR", "odsT" (the best threshold), "oisF", "oisP", "oisR", "thresholds", "precision",
  //  "recall", "F" (per threshold), "n_images"}; fractions in [0, 1].
  nlohmann::json results() const override;
  void reset() override;
  MetricState state() const override;
  void load_state(const MetricState& s) override;

  const std::vector<double>& thresholds() const { return thresholds_; }

 private:
  double max_dist_;
  bool thin_;
  std::vector<double> thresholds_;
  std::vector<int64_t> cnt_, sum_p_;  // per threshold: matched pairs, predicted pixels
  int64_t sum_r_ = 0;                 // ground-truth pixels
  int64_t ois_cnt_ = 0, ois_sum_p_ = 0, ois_sum_r_ = 0;
  int64_t n_images_ = 0;
};

// Precision, recall and F from pooled counts with SEISM's conventions for empty sets (no ground truth: R = 1,
// P = 0; no prediction: R = 0, P = 1).
struct EdgePRF {
  double p, r, f;
};
EdgePRF edge_prf(int64_t matched, int64_t pred, int64_t gt);

}  // namespace mtinet
