// Segmentation metrics (semseg, human_parts) as the reference computes them: per-class TP/FP/FN pooled over the
// whole split on pixels whose label is not 255; IoU_c = TP/max(TP+FP+FN, 1e-8); mIoU = mean over ALL classes (a
// class absent from both labels and predictions counts as IoU 0, as in the reference); pixel accuracy on top.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "eval/metric.h"

namespace mtinet {

class SegmentationMetric : public Metric {
 public:
  // skip_uniform_images: ignore images whose label is entirely 0 or entirely 255, as the reference's offline
  // human-parts evaluation does (all-255 images contribute nothing either way; all-background ones do).
  explicit SegmentationMetric(int64_t num_classes, bool skip_uniform_images = false);

  // pred: logits {N, H, W, num_classes} (the class is their argmax, first maximum on ties);
  // label: {N, H, W} (or {N, H, W, 1}) i64, values in [0, num_classes) or 255 (ignored).
  void update(const Tensor& pred, const Tensor& label) override;
  // The same with the predicted classes given directly: {N, H, W} (or {N, H, W, 1}) i64.
  void update_classes(const Tensor& pred_classes, const Tensor& label);

  // {"mIoU", "pixel_acc", "jaccards_all_categs": [per class], "tp", "fp", "fn": [per class], "n_valid",
  //  "n_images"}, and "class_names": [per class] when names were set; IoUs and accuracy are fractions in [0, 1].
  nlohmann::json results() const override;
  void reset() override;
  MetricState state() const override;
  void load_state(const MetricState& s) override;

  int64_t num_classes() const { return num_classes_; }
  // One name per class (eval/class_names.h), or none.
  void set_class_names(std::vector<std::string> names);

 private:
  // Adds one image's pixels; class_of(i) is the predicted class of pixel i.
  template <class ClassOf>
  void add_image(const int64_t* label, int64_t pixels, const ClassOf& class_of);

  int64_t num_classes_;
  bool skip_uniform_images_;
  std::vector<std::string> names_;
  std::vector<int64_t> tp_, fp_, fn_;
  int64_t n_valid_ = 0, n_correct_ = 0, n_images_ = 0;
};

}  // namespace mtinet
