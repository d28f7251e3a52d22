#include "eval/metric_input.h"

#include <cmath>

namespace mtinet {

FloatReader float_reader(const char* what, const Tensor& t) {
  MTINET_CHECK(t.device() == Device::CPU, what, " must be on the CPU, got ", t.describe());
  FloatReader r;
  if (t.dtype() == DType::F32) r.f32 = t.data<float>();
  else if (t.dtype() == DType::F64) r.f64 = t.data<double>();
  else MTINET_FAIL(what, " must be f32 or f64, got ", t.describe());
  return r;
}

int64_t check_nhwc(const char* metric, const char* role, const Tensor& t, int64_t channels) {
  MTINET_CHECK(t.defined(), metric, ": ", role, " is undefined");
  MTINET_CHECK(t.device() == Device::CPU, metric, ": ", role, " must be on the CPU, got ", t.describe());
  MTINET_CHECK(t.ndim() == 4, metric, ": ", role, " must be {N, H, W, C}, got ", t.describe());
  MTINET_CHECK(channels < 0 || t.dim(3) == channels, metric, ": ", role, " must have ", channels,
               " channel(s), got ", t.describe());
  return t.dim(3);
}

void check_label_matches(const char* metric, const Tensor& pred, const Tensor& label, int64_t label_channels) {
  MTINET_CHECK(label.defined(), metric, ": label is undefined");
  MTINET_CHECK(label.device() == Device::CPU, metric, ": label must be on the CPU, got ", label.describe());
  bool three_d = label.ndim() == 3;
  bool four_d = label.ndim() == 4 && label.dim(3) == label_channels;
  MTINET_CHECK(three_d || four_d, metric, ": label must be {N, H, W} or {N, H, W, ", label_channels, "}, got ",
               label.describe());
  for (int i = 0; i < 3; ++i) {
    MTINET_CHECK(label.dim(i) == pred.dim(i), metric, ": label ", label.describe(), " does not match prediction ",
                 pred.describe(), " in batch/height/width (predictions must be at label resolution)");
  }
}

double logistic(double x) {
  // Both branches avoid overflow of exp for large |x|.
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  double e = std::exp(x);
  return e / (1.0 + e);
}

}  // namespace mtinet
