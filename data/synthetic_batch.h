// Random inputs and labels shaped like a real batch for a model's tasks, so that a training step can run without a
// dataset (benchmarks, memory estimates). Labels follow the loader's conventions: CrossEntropy tasks {N,H,W} i64
// (about a tenth of the pixels ignored), everything else {N,H,W,K} in the model's float dtype.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "core/device.h"
#include "core/dtype.h"
#include "core/rng.h"
#include "core/tensor.h"
#include "model/tasks.h"

namespace mtinet {

// "image" {N,H,W,3} normal(0, 1) (a normalised image), plus one label per main and auxiliary task.
std::map<std::string, Tensor> synthetic_batch(const TaskSet& tasks, int64_t n, int64_t h, int64_t w, Rng& rng,
                                              DType dtype, Device device);

}  // namespace mtinet
