// Feature aggregation, MTI-Net's last box (also the baselines' decoder): the HRNet aggregation head and fuse block
// (the reference's HighResolutionHead / HighResolutionFuse): the four branch maps are upsampled to the stride-4 map's
// size, concatenated, and mixed by 1x1 convs (docs/architecture.md).
#pragma once
#include <memory>
#include <vector>

#include "core/rng.h"
#include "layers/blocks.h"

namespace mtinet {

// Upsamples xs[1..] bilinearly to xs[0]'s size and concatenates all along channels.
Tensor concat_at_highest_resolution(const std::vector<Tensor>& xs);

// last_layer = {0: conv1x1 C->C (bias), 1: BN(momentum), 2: ReLU, 3: conv1x1 C->K (bias)}, C = sum of channels.
// Output at the stride-4 resolution; the caller resizes it to the input size.
class HighResolutionHead : public Module {
 public:
  HighResolutionHead(const std::vector<int64_t>& channels, int64_t outputs, Rng& rng, double bn_momentum = 0.1);
  Tensor forward(const std::vector<Tensor>& xs);

 private:
  std::shared_ptr<Sequential> last_layer_;
};

// last_layer = {0: conv1x1 C->C (bias), 1: BN(momentum), 2: ReLU}: PAD-Net's single fused stride-4 map.
class HighResolutionFuse : public Module {
 public:
  HighResolutionFuse(const std::vector<int64_t>& channels, Rng& rng, double bn_momentum = 0.1);
  Tensor forward(const std::vector<Tensor>& xs);

 private:
  std::shared_ptr<Sequential> last_layer_;
};

}  // namespace mtinet
