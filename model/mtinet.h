// MTI-Net (Vandenhende et al., ECCV 2020) on an HRNet backbone, as the authors' reference code computes it (see
// docs/architecture.md): per-scale initial task predictions, feature propagation from coarse to fine scales, multi-modal
// distillation at every scale, and an HRNet aggregation head per main task. State dict names equal the reference's.
// This file wires the boxes of the paper's figure, each in its own file: model/hrnet.h, model/initial_prediction.h,
// model/feature_propagation.h, model/distillation.h, model/aggregation.h.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/rng.h"
#include "model/aggregation.h"
#include "model/distillation.h"
#include "model/feature_propagation.h"
#include "model/hrnet.h"
#include "model/initial_prediction.h"
#include "model/network.h"

namespace mtinet {

class MtiNet : public MultiTaskNetwork {
 public:
  MtiNet(const TaskSet& tasks, const HRNetConfig& backbone, Rng& rng,
         FpmGrouping grouping = FpmGrouping::AdjacentChannels);

 protected:
  // x {N,H,W,3}, H and W divisible by 32. Deep supervision: scales 0..3, every auxiliary task.
  ModelOutput forward_impl(const Tensor& x, FinalPredictions finals) override;

 private:
  std::shared_ptr<HRNet> backbone_;
  std::shared_ptr<FeaturePropagation> fpm_[4];  // indices 1..3 (none at scale 0)
  std::shared_ptr<InitialTaskPrediction> scale_[4];
  std::shared_ptr<MultiTaskDistillation> distillation_[4];
  std::map<std::string, std::shared_ptr<HighResolutionHead>> heads_;
};

// Throws an Error naming the size unless x is {N,H,W,3} with H and W divisible by `multiple`.
void check_input_size(const Tensor& x, int64_t multiple, const char* model);

}  // namespace mtinet
