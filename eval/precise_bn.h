// "Precise BN": re-estimates every BatchNorm's running statistics under the current weights, as the plain average
// of the batch statistics over a number of training batches (PyTorch's momentum=None cumulative average).
//
// Why: with the reference's backbone momentum of 0.01 the running statistics trail the weights by ~100 steps, so
// after a short run (the synthetic demo) eval-mode predictions use statistics of much older weights and collapse.
// Re-estimating them before evaluation makes eval mode reflect the weights actually trained.
#pragma once
#include <cstdint>
#include <functional>

#include "core/tensor.h"
#include "layers/module.h"

namespace mtinet {

// next_images() returns the next batch of normalised images on the model's device (undefined tensor: no more).
// The model is left in eval mode; the BatchNorm momenta are restored. Returns the number of batches used.
int64_t recompute_bn_statistics(Module& model, int64_t batches, const std::function<Tensor()>& next_images,
                                const std::function<void(const Tensor&)>& forward);

}  // namespace mtinet
