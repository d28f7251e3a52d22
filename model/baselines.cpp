#include "model/baselines.h"

#include <numeric>

#include "core/ops.h"

namespace mtinet {

SingleTaskModel::SingleTaskModel(const TaskSet& tasks, const HRNetConfig& backbone, Rng& rng)
    : MultiTaskNetwork(tasks) {
  MTINET_CHECK(tasks.main.size() == 1, "SingleTaskModel: task set '", tasks.name, "' has ", tasks.main.size(),
               " main tasks, expected exactly one");
  backbone_ = register_module("backbone", std::make_shared<HRNet>(backbone, rng));
  set_backbone(backbone_);
  decoder_ = register_module(
      "decoder", std::make_shared<HighResolutionHead>(backbone.out_channels(), tasks.main[0].channels, rng, 0.1));
}

ModelOutput SingleTaskModel::forward_impl(const Tensor& x, FinalPredictions finals) {
  ModelOutput out;
  set_final(out, tasks().main[0].name, decoder_->forward(backbone_->forward(x)), x, finals);
  return out;
}

MultiTaskBaseline::MultiTaskBaseline(const TaskSet& tasks, const HRNetConfig& backbone, Rng& rng)
    : MultiTaskNetwork(tasks) {
  MTINET_CHECK(!tasks.main.empty(), "MultiTaskBaseline: task set '", tasks.name, "' has no main task");
  backbone_ = register_module("backbone", std::make_shared<HRNet>(backbone, rng));
  set_backbone(backbone_);
  auto decoders = register_module("decoders", std::make_shared<ModuleDict>());
  for (const TaskSpec& t : tasks.main)
    decoders_[t.name] =
        decoders->add(t.name, std::make_shared<HighResolutionHead>(backbone.out_channels(), t.channels, rng, 0.1));
}

ModelOutput MultiTaskBaseline::forward_impl(const Tensor& x, FinalPredictions finals) {
  std::vector<Tensor> features = backbone_->forward(x);
  ModelOutput out;
  for (const TaskSpec& t : tasks().main) set_final(out, t.name, decoders_[t.name]->forward(features), x, finals);
  return out;
}

PadNet::PadNet(const TaskSet& tasks, const HRNetConfig& backbone, Rng& rng, int64_t intermediate)
    : MultiTaskNetwork(tasks) {
  MTINET_CHECK(!tasks.main.empty(), "PadNet: task set '", tasks.name, "' has no main task");
  MTINET_CHECK(intermediate % Bottleneck::kExpansion == 0, "PadNet: intermediate channels ", intermediate,
               " must be a multiple of ", Bottleneck::kExpansion);
  const int64_t planes = intermediate / Bottleneck::kExpansion;
  const std::vector<int64_t>& c = backbone.out_channels();
  const int64_t fused = std::accumulate(c.begin(), c.end(), int64_t(0));

  // backbone = nn.Sequential(HRNet, HighResolutionFuse) in the reference.
  auto seq = register_module("backbone", std::make_shared<ModuleDict>());
  hrnet_ = seq->add("0", std::make_shared<HRNet>(backbone, rng));
  set_backbone(hrnet_);
  fuse_ = seq->add("1", std::make_shared<HighResolutionFuse>(c, rng, 0.1));

  auto initial = register_module("initial_task_prediction_heads", std::make_shared<ModuleDict>());
  auto layers = initial->add("layers", std::make_shared<ModuleDict>());
  auto conv_out = initial->add("conv_out", std::make_shared<ModuleDict>());
  for (const TaskSpec& t : tasks.auxiliary) {
    auto s = std::make_shared<Sequential>();
    s->push_back(std::make_shared<Bottleneck>(fused, planes, rng));  // 1x1 conv + BN downsample when fused != 256
    s->push_back(std::make_shared<Bottleneck>(intermediate, planes, rng));
    initial_layers_[t.name] = layers->add(t.name, s);
  }
  for (const TaskSpec& t : tasks.auxiliary)
    initial_out_[t.name] =
        conv_out->add(t.name, std::make_shared<Conv2d>(Conv2dSpec{intermediate, t.channels, 1, 1, 0, 1, true}, rng));

  distillation_ = register_module(
      "multi_modal_distillation",
      std::make_shared<MultiTaskDistillation>(tasks.main_names(), tasks.auxiliary_names(), intermediate, rng));

  auto heads = register_module("heads", std::make_shared<ModuleDict>());
  for (const TaskSpec& t : tasks.main) {
    auto s = std::make_shared<Sequential>();
    s->push_back(std::make_shared<Bottleneck>(intermediate, planes, rng));
    s->push_back(std::make_shared<Bottleneck>(intermediate, planes, rng));
    s->push_back(std::make_shared<Conv2d>(Conv2dSpec{intermediate, t.channels, 1, 1, 0, 1, true}, rng));
    heads_[t.name] = heads->add(t.name, s);
  }
}

ModelOutput PadNet::forward_impl(const Tensor& x, FinalPredictions finals) {
  Tensor shared = fuse_->forward(hrnet_->forward(x));
  std::map<std::string, Tensor> features, initial;
  for (const TaskSpec& t : tasks().auxiliary) {
    features[t.name] = initial_layers_[t.name]->forward(shared);
    initial[t.name] = initial_out_[t.name]->forward(features[t.name]);
  }
  std::map<std::string, Tensor> distilled = distillation_->forward(features);
  ModelOutput out;
  out.deep_supervision.push_back(initial);
  for (const TaskSpec& t : tasks().main) set_final(out, t.name, heads_[t.name]->forward(distilled[t.name]), x, finals);
  return out;
}

}  // namespace mtinet
