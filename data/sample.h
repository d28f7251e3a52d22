// A training sample while it is loaded and augmented: named maps, each an {H, W, C} f32 CPU tensor with the
// interpolation its content needs (images and normals cubic, labels nearest).
#pragma once
#include <map>
#include <string>

#include "core/tensor.h"

namespace mtinet {

enum class Interp { Cubic, Nearest };

struct SampleField {
  Tensor map;  // {H, W, C} f32
  Interp interp = Interp::Nearest;
};

struct Sample {
  std::string id;
  std::map<std::string, SampleField> fields;  // "image", "semseg", "depth", "normals", "edge", ...
  int64_t height() const;
  int64_t width() const;
};

}  // namespace mtinet
