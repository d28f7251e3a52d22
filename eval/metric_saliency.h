// Saliency metrics as the reference computes them: the prediction's probability (sigmoid of a 1-channel logit, or
// softmax channel 1 of a 2-channel output) is thresholded (p > t) at 15 thresholds linspace(0.2, 0.9); per image
// and threshold: IoU (1 when both masks are empty), precision tp/(tp+fp+1e-12), recall tp/(tp+fn+1e-12); these are
// averaged over images; per threshold F = (1+b2)*P*R/(b2*P+R+1e-12) from the mean precision and recall.
// maxF = max over thresholds of F with b2 = 1 (the reference's formula, 2PR/(P+R)); maxF_beta2_0.3 uses the
// saliency literature's b2 = 0.3; mIoU = max over thresholds of the mean IoU.
#pragma once
#include <cstdint>
#include <vector>

#include "eval/metric.h"

namespace mtinet {

class SaliencyMetric : public Metric {
 public:
  SaliencyMetric();
  // pred: {N, H, W, 1} logit or {N, H, W, 2} two-class logits; label: {N, H, W, 1} (or {N, H, W}), > 0.5 salient.
  void update(const Tensor& pred, const Tensor& label) override;
  // {"mIoU", "maxF", "maxF_beta2_0.3", "thresholds", "mIoUs", "mPrec", "mRec", "F", "n_images"} (fractions).
  nlohmann::json results() const override;
  void reset() override;
  MetricState state() const override;
  void load_state(const MetricState& s) override;

  const std::vector<double>& thresholds() const { return thresholds_; }

 private:
  std::vector<double> thresholds_;
  std::vector<double> sum_iou_, sum_prec_, sum_rec_;  // per threshold, summed over images
  int64_t n_images_ = 0;
};

}  // namespace mtinet
