// The baselines the MTI-Net paper compares against, on the same HRNet backbone, with the reference repo's
// state_dict names (models/models.py, models/padnet.py, utils/common_config.py):
//  - SingleTaskModel: backbone.*, decoder.last_layer.* (one HighResolutionHead)
//  - MultiTaskBaseline: backbone.*, decoders.<task>.last_layer.* (shared backbone, one head per task)
//  - PadNet: backbone.0.* (HRNet), backbone.1.last_layer.* (the stride-4 fuse), initial_task_prediction_heads.
//    {layers,conv_out}.<a>.*, multi_modal_distillation.self_attention.<t>.<a>.*, heads.<t>.{0,1,2}.*
#pragma once
#include <map>
#include <memory>
#include <string>

#include "model/aggregation.h"
#include "model/distillation.h"
#include "model/hrnet.h"
#include "model/network.h"

namespace mtinet {

class SingleTaskModel : public MultiTaskNetwork {
 public:
  // `tasks` must hold exactly one main task (see TaskSet::single).
  SingleTaskModel(const TaskSet& tasks, const HRNetConfig& backbone, Rng& rng);

 protected:
  ModelOutput forward_impl(const Tensor& x, FinalPredictions finals) override;

 private:
  std::shared_ptr<HRNet> backbone_;
  std::shared_ptr<HighResolutionHead> decoder_;
};

class MultiTaskBaseline : public MultiTaskNetwork {
 public:
  MultiTaskBaseline(const TaskSet& tasks, const HRNetConfig& backbone, Rng& rng);

 protected:
  ModelOutput forward_impl(const Tensor& x, FinalPredictions finals) override;

 private:
  std::shared_ptr<HRNet> backbone_;
  std::map<std::string, std::shared_ptr<HighResolutionHead>> decoders_;
};

// PAD-Net: HRNet + stride-4 fuse (sum of branch channels), per auxiliary task 2 Bottlenecks (256 channels) and a
// 1x1 initial prediction, multi-modal distillation at 256 channels, per main task 2 Bottlenecks + 1x1 conv.
// Deep supervision: scale 0 holds the initial predictions (stride 4).
class PadNet : public MultiTaskNetwork {
 public:
  PadNet(const TaskSet& tasks, const HRNetConfig& backbone, Rng& rng, int64_t intermediate_channels = 256);

 protected:
  ModelOutput forward_impl(const Tensor& x, FinalPredictions finals) override;

 private:
  std::shared_ptr<HRNet> hrnet_;
  std::shared_ptr<HighResolutionFuse> fuse_;
  std::map<std::string, std::shared_ptr<Sequential>> initial_layers_, heads_;
  std::map<std::string, std::shared_ptr<Conv2d>> initial_out_;
  std::shared_ptr<MultiTaskDistillation> distillation_;
};

}  // namespace mtinet
