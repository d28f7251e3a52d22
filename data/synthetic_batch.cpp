// Synthetic batches (data/synthetic_batch.h). Values are drawn on the host and copied once to the device.
#include "data/synthetic_batch.h"

#include <cmath>

namespace mtinet {

namespace {

Tensor class_labels(int64_t n, int64_t h, int64_t w, int64_t classes, int64_t ignore, Rng& rng) {
  Tensor t = Tensor::empty({n, h, w}, DType::I64);
  int64_t* p = t.data<int64_t>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = rng.uniform() < 0.1 ? ignore : rng.randint(classes);
  return t;
}

// Unit vectors (normals labels) with about a tenth of the pixels the invalid zero vector.
Tensor unit_vectors(int64_t n, int64_t h, int64_t w, Rng& rng) {
  Tensor t = Tensor::empty({n, h, w, 3}, DType::F64);
  double* p = t.data<double>();
  for (int64_t i = 0; i < n * h * w; ++i, p += 3) {
    bool valid = rng.uniform() >= 0.1;
    double x = rng.uniform(-1, 1), y = rng.uniform(-1, 1), z = rng.uniform(0.1, 1);
    double len = std::sqrt(x * x + y * y + z * z);
    p[0] = valid ? x / len : 0, p[1] = valid ? y / len : 0, p[2] = valid ? z / len : 0;
  }
  return t;
}

Tensor binary_map(int64_t n, int64_t h, int64_t w, double positive_fraction, Rng& rng) {
  Tensor t = Tensor::empty({n, h, w, 1}, DType::F64);
  double* p = t.data<double>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = rng.uniform() < positive_fraction ? 1.0 : 0.0;
  return t;
}

Tensor task_label(const TaskSpec& spec, int64_t n, int64_t h, int64_t w, Rng& rng) {
  switch (spec.loss) {
    case LossKind::CrossEntropy: return class_labels(n, h, w, spec.channels, spec.ignore_index, rng);
    case LossKind::MaskedL1: {  // depth in metres, about a tenth invalid (0)
      Tensor t = Tensor::empty({n, h, w, spec.channels}, DType::F64);
      double* p = t.data<double>();
      for (int64_t i = 0; i < t.numel(); ++i) p[i] = rng.uniform() < 0.1 ? 0.0 : rng.uniform(0.5, 10.0);
      return t;
    }
    case LossKind::NormalsL1: return unit_vectors(n, h, w, rng);
    case LossKind::BalancedBce: return binary_map(n, h, w, spec.name == "edge" ? 0.05 : 0.3, rng);
  }
  MTINET_FAIL("synthetic_batch: unknown loss kind for task '", spec.name, "'");
}

}  // namespace

std::map<std::string, Tensor> synthetic_batch(const TaskSet& tasks, int64_t n, int64_t h, int64_t w, Rng& rng,
                                              DType dtype, Device device) {
  std::map<std::string, Tensor> batch;
  Tensor image = Tensor::empty({n, h, w, 3}, DType::F64);
  fill_normal(image, rng, 0.0, 1.0);
  batch["image"] = image.to(dtype).to(device);
  auto add = [&](const TaskSpec& spec) {
    if (batch.count(spec.name)) return;
    Tensor label = task_label(spec, n, h, w, rng);
    if (is_floating(label.dtype())) label = label.to(dtype);
    batch[spec.name] = label.to(device);
  };
  for (const TaskSpec& t : tasks.auxiliary) add(t);
  for (const TaskSpec& t : tasks.main) add(t);
  return batch;
}

}  // namespace mtinet
