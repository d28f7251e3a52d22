// A dataset: a list of samples that can be loaded by index, from any thread.
#pragma once
#include <string>
#include <vector>

#include "data/sample.h"

namespace mtinet {

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual size_t size() const = 0;
  // Loads sample i with every field of the tasks in use, as the reference presents it before augmentation
  // (image 0..255 RGB; semseg with 255 = ignore; depth in metres, 0 invalid; normals; edge 0/1).
  virtual Sample load(size_t i) const = 0;
  virtual std::string name() const = 0;
};

}  // namespace mtinet
