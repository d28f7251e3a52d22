// HRNet backbone (HRNetV2, "Deep High-Resolution Representation Learning"), configurable; the default is
// HRNetV2-W18-Small-v2, the backbone MTI-Net calls "HRNet-18". State dict names follow the official
// HRNet-Image-Classification / seg_hrnet code, so its checkpoints load unchanged.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/safetensors.h"
#include "layers/blocks.h"

namespace mtinet {

// One stage: `modules` high-resolution modules, each with one branch per entry of `channels` holding
// blocks[i] BasicBlocks, then the fuse layers. Every module outputs all branches (multi-scale output).
struct HRNetStageConfig {
  int modules = 1;
  std::vector<int> blocks;
  std::vector<int64_t> channels;
};

struct HRNetConfig {
  int64_t stem_channels = 64;  // the two stride-2 3x3 stem convs
  int layer1_blocks = 2;       // Bottlenecks in layer1
  int64_t layer1_planes = 64;  // Bottleneck planes; layer1 outputs planes * 4
  HRNetStageConfig stage2{1, {2, 2}, {18, 36}};
  HRNetStageConfig stage3{3, {2, 2, 2}, {18, 36, 72}};
  HRNetStageConfig stage4{2, {2, 2, 2, 2}, {18, 36, 72, 144}};
  double bn_momentum = 0.01;  // HRNet's BN_MOMENTUM

  static HRNetConfig w18_small_v2();  // 3,860,720 parameters
  static HRNetConfig w18();           // full HRNetV2-W18
  static HRNetConfig w48();           // HRNetV2-W48
  // Not a published network: a 224,032-parameter HRNet (branches 8/16/32/64, one block and module per stage)
  // with every structural feature of the real ones, for fast tests and smoke runs of the full pipeline.
  static HRNetConfig tiny();
  // By name: "hrnet_w18_small_v2", "hrnet_w18", "hrnet_w48", "hrnet_tiny"; throws naming an unknown one.
  static HRNetConfig by_name(const std::string& name);
  const std::vector<int64_t>& out_channels() const { return stage4.channels; }
};

// One high-resolution module: per-branch BasicBlock stacks, then every output branch i sums all input branches
// brought to its resolution and channel count (fuse_layers.i.j), then ReLU.
class HighResolutionModule : public Module {
 public:
  HighResolutionModule(const std::vector<int64_t>& channels, const std::vector<int>& blocks, double bn_momentum,
                       Rng& rng);
  std::vector<Tensor> forward(const std::vector<Tensor>& xs);

 private:
  std::vector<std::shared_ptr<Sequential>> branches_;
  // fuse_[i][j] brings branch j to branch i; null for j == i (identity).
  std::vector<std::vector<std::shared_ptr<Sequential>>> fuse_;
};

class HRNet : public Module {
 public:
  explicit HRNet(const HRNetConfig& config, Rng& rng);
  // x {N,H,W,3} -> one NHWC map per branch, at strides 4, 8, 16, 32.
  std::vector<Tensor> forward(const Tensor& x);
  const HRNetConfig& config() const { return config_; }
  const std::vector<int64_t>& out_channels() const { return config_.out_channels(); }

 private:
  struct Stage {
    // transition[i] maps the previous stage's outputs to branch i; null where the branch passes unchanged.
    std::vector<std::shared_ptr<Sequential>> transition;
    std::vector<std::shared_ptr<HighResolutionModule>> modules;
  };
  Stage make_stage(const std::string& index, const std::vector<int64_t>& pre_channels, const HRNetStageConfig& cfg,
                   Rng& rng);
  static std::vector<Tensor> run_stage(Stage& stage, const std::vector<Tensor>& xs);

  HRNetConfig config_;
  std::shared_ptr<Conv2d> conv1_, conv2_;
  std::shared_ptr<BatchNorm2d> bn1_, bn2_;
  std::shared_ptr<Sequential> layer1_;
  Stage stages_[3];
};

// Loads ImageNet-pretrained weights (the official classification checkpoint hrnet_w18_small_model_v2.pth saved as
// safetensors, or timm's hrnet_w18_small_v2) into `backbone`, as the reference's init_weights does: the
// classification-head keys (incre_modules, downsamp_modules, final_layer, classifier) are dropped and a leading
// "module." or "backbone." is stripped. Every backbone tensor must then be present with the right shape, except
// BatchNorm num_batches_tracked counters, which keep their value when absent; otherwise an Error lists every
// missing, unexpected and mis-shaped key.
LoadReport load_hrnet_pretrained(HRNet& backbone, const SafetensorsContents& file);

}  // namespace mtinet
