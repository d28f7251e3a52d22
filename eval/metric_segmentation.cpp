#include "eval/metric_segmentation.h"

#include <algorithm>

#include "eval/metric_input.h"

namespace mtinet {

namespace {

constexpr int64_t kIgnore = 255;
constexpr double kIouEps = 1e-8;  // the reference's max(tp + fp + fn, 1e-8)

const int64_t* label_data(const Tensor& label) {
  MTINET_CHECK(label.dtype() == DType::I64, "segmentation metric: label must be i64, got ", label.describe());
  return label.data<int64_t>();
}

// True when every pixel of the image has the same label and that label is 0 or 255.
bool uniform_background_or_ignored(const int64_t* label, int64_t pixels) {
  if (pixels == 0) return true;
  int64_t first = label[0];
  if (first != 0 && first != kIgnore) return false;
  return std::all_of(label, label + pixels, [first](int64_t v) { return v == first; });
}

}  // namespace

SegmentationMetric::SegmentationMetric(int64_t num_classes, bool skip_uniform_images)
    : num_classes_(num_classes), skip_uniform_images_(skip_uniform_images) {
  MTINET_CHECK(num_classes > 0 && num_classes < kIgnore, "segmentation metric: num_classes must be in [1, 254], got ",
               num_classes);
  reset();
}

void SegmentationMetric::set_class_names(std::vector<std::string> names) {
  MTINET_CHECK(names.empty() || int64_t(names.size()) == num_classes_, "segmentation metric: ", names.size(),
               " class names for ", num_classes_, " classes");
  names_ = std::move(names);
}

void SegmentationMetric::reset() {
  tp_.assign(size_t(num_classes_), 0);
  fp_.assign(size_t(num_classes_), 0);
  fn_.assign(size_t(num_classes_), 0);
  n_valid_ = n_correct_ = n_images_ = 0;
}

template <class ClassOf>
void SegmentationMetric::add_image(const int64_t* label, int64_t pixels, const ClassOf& class_of) {
  if (skip_uniform_images_ && uniform_background_or_ignored(label, pixels)) return;
  ++n_images_;
  for (int64_t i = 0; i < pixels; ++i) {
    int64_t y = label[i];
    if (y == kIgnore) continue;
    MTINET_CHECK(y >= 0 && y < num_classes_, "segmentation metric: label value ", y, " is neither a class in [0, ",
                 num_classes_, ") nor the ignore label 255");
    int64_t p = class_of(i);
    ++n_valid_;
    if (p == y) {
      ++tp_[size_t(y)];
      ++n_correct_;
    } else {
      ++fn_[size_t(y)];
      ++fp_[size_t(p)];
    }
  }
}

void SegmentationMetric::update(const Tensor& pred, const Tensor& label) {
  check_nhwc("segmentation metric", "prediction", pred, num_classes_);
  check_label_matches("segmentation metric", pred, label, 1);
  FloatReader logits = float_reader("segmentation metric: prediction", pred);
  const int64_t* y = label_data(label);
  const int64_t n = pred.dim(0), pixels = pred.dim(1) * pred.dim(2), c = num_classes_;

  // Argmax for the whole batch first (the expensive part, parallel), then sequential counting.
  std::vector<int32_t> classes(static_cast<size_t>(n * pixels));
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n * pixels; ++i) {
    const int64_t base = i * c;
    int32_t best = 0;
    double best_v = logits[base];
    for (int64_t k = 1; k < c; ++k) {
      double v = logits[base + k];
      if (v > best_v) { best_v = v; best = int32_t(k); }
    }
    classes[size_t(i)] = best;
  }
  for (int64_t b = 0; b < n; ++b) {
    const int32_t* cls = classes.data() + b * pixels;
    add_image(y + b * pixels, pixels, [cls](int64_t i) { return int64_t(cls[i]); });
  }
}

void SegmentationMetric::update_classes(const Tensor& pred_classes, const Tensor& label) {
  const char* metric = "segmentation metric";
  MTINET_CHECK(pred_classes.defined() && pred_classes.device() == Device::CPU && pred_classes.dtype() == DType::I64,
               metric, ": predicted classes must be a CPU i64 tensor, got ",
               pred_classes.defined() ? pred_classes.describe() : std::string("undefined"));
  bool ok = pred_classes.ndim() == 3 || (pred_classes.ndim() == 4 && pred_classes.dim(3) == 1);
  MTINET_CHECK(ok, metric, ": predicted classes must be {N, H, W}, got ", pred_classes.describe());
  check_label_matches(metric, pred_classes, label, 1);
  const int64_t* p = pred_classes.data<int64_t>();
  const int64_t* y = label_data(label);
  const int64_t n = pred_classes.dim(0), pixels = pred_classes.dim(1) * pred_classes.dim(2);
  for (int64_t i = 0; i < n * pixels; ++i) {
    MTINET_CHECK(p[i] >= 0 && p[i] < num_classes_, metric, ": predicted class ", p[i], " out of range [0, ",
                 num_classes_, ") in ", pred_classes.describe());
  }
  for (int64_t b = 0; b < n; ++b) {
    const int64_t* pb = p + b * pixels;
    add_image(y + b * pixels, pixels, [pb](int64_t i) { return pb[i]; });
  }
}

nlohmann::json SegmentationMetric::results() const {
  std::vector<double> jac(static_cast<size_t>(num_classes_));
  double sum = 0;
  for (size_t k = 0; k < jac.size(); ++k) {
    jac[k] = double(tp_[k]) / std::max(double(tp_[k] + fp_[k] + fn_[k]), kIouEps);
    sum += jac[k];
  }
  nlohmann::json r;
  r["mIoU"] = sum / double(num_classes_);
  r["pixel_acc"] = n_valid_ > 0 ? double(n_correct_) / double(n_valid_) : 0.0;
  r["jaccards_all_categs"] = jac;
  r["tp"] = tp_;
  r["fp"] = fp_;
  r["fn"] = fn_;
  r["n_valid"] = n_valid_;
  r["n_images"] = n_images_;
  if (!names_.empty()) r["class_names"] = names_;  // beside jaccards_all_categs, whose layout stays the reference's
  return r;
}

MetricState SegmentationMetric::state() const {
  MetricState s;
  for (const std::vector<int64_t>* v : {&tp_, &fp_, &fn_}) s.counts.insert(s.counts.end(), v->begin(), v->end());
  s.counts.insert(s.counts.end(), {n_valid_, n_correct_, n_images_});
  return s;
}

void SegmentationMetric::load_state(const MetricState& s) {
  size_t c = size_t(num_classes_);
  s.check_size("segmentation metric", 3 * c + 3, 0);
  auto part = [&](size_t i) {
    return std::vector<int64_t>(s.counts.begin() + std::ptrdiff_t(i * c), s.counts.begin() + std::ptrdiff_t((i + 1) * c));
  };
  tp_ = part(0), fp_ = part(1), fn_ = part(2);
  n_valid_ = s.counts[3 * c], n_correct_ = s.counts[3 * c + 1], n_images_ = s.counts[3 * c + 2];
}

}  // namespace mtinet
