// Finding NaN and Inf among named tensors: the check that keeps non-finite weights out of a model (on load) and out
// of a checkpoint (on save). A NaN weight makes every output NaN, yet an evaluation over it can still print
// plausible-looking metrics (an argmax over NaN logits is class 0), so it is refused where it enters or leaves.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace mtinet {

struct NonFiniteTensor {
  std::string name;   // the tensor
  int64_t numel = 0;  // its elements
  int64_t count = 0;  // how many of them are NaN or +-Inf
  int64_t first = 0;  // the flat index of the first one
  double value = 0;   // its value

  // "'name' holds 3 non-finite values of 64 (the first, element 5, is nan)"
  std::string describe() const;
};

// The first tensor (in the given order) holding a NaN or an Inf; integer tensors are skipped. Tensors on a GPU are
// copied to the host for the check.
std::optional<NonFiniteTensor> find_non_finite(const std::vector<std::pair<std::string, Tensor>>& tensors);

}  // namespace mtinet
