// MTI-Net (Vandenhende et al., ECCV 2020) on an HRNet backbone, as the authors' reference code computes it (see
// shared/MTINET.md): per-scale initial task predictions, feature propagation from coarse to fine scales, multi-modal
// distillation at every scale, and an HRNet aggregation head per main task. State dict names equal the reference's.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/rng.h"
#include "layers/attention.h"
#include "model/distillation.h"
#include "model/heads.h"
#include "model/hrnet.h"
#include "model/network.h"

namespace mtinet {

// Per auxiliary task a: refinement.<a> = {BasicBlock(in -> C), BasicBlock(C)} giving features F_a, and
// decoders.<a> = 1x1 conv (bias) giving the prediction P_a. At scales < 3 the input is the backbone map concatenated
// with the 2x-upsampled FPM output of the coarser scale for that task.
class InitialTaskPrediction : public Module {
 public:
  InitialTaskPrediction(const std::vector<TaskSpec>& auxiliary, int64_t in_channels, int64_t task_channels,
                        Rng& rng);
  struct Result {
    std::map<std::string, Tensor> features, predictions;
  };
  // `propagated` (per task, half this scale's resolution) is null at the coarsest scale.
  Result forward(const Tensor& x, const std::map<std::string, Tensor>* propagated);

 private:
  std::vector<std::string> tasks_;
  std::map<std::string, std::shared_ptr<Sequential>> refinement_;
  std::map<std::string, std::shared_ptr<Conv2d>> decoders_;
};

// How the FPM's softmax mask groups the N*C channels of the task-major concatenation (channel n*C + c is task n's
// channel c).
enum class FpmGrouping {
  AdjacentChannels,  // the reference code: view (C, N) + softmax over N = groups of N adjacent channels (default)
  AcrossTasks,       // the paper's reading: softmax over the N tasks' copies of the same channel c
};

// Feature Propagation Module: a shared representation of all tasks' features, gated by a softmax mask (see
// FpmGrouping), reduced to C channels, then re-weighted per task by a squeeze-and-excitation block and added to
// that task's features.
class FeaturePropagation : public Module {
 public:
  FeaturePropagation(const std::vector<std::string>& auxiliary, int64_t channels, Rng& rng,
                     FpmGrouping grouping = FpmGrouping::AdjacentChannels);
  std::map<std::string, Tensor> forward(const std::map<std::string, Tensor>& features);

 private:
  FpmGrouping grouping_;
  std::vector<std::string> tasks_;
  std::shared_ptr<Sequential> non_linear_;
  std::shared_ptr<BasicBlock> dimensionality_reduction_;
  std::map<std::string, std::shared_ptr<SEBlock>> se_;
};

class MtiNet : public MultiTaskNetwork {
 public:
  MtiNet(const TaskSet& tasks, const HRNetConfig& backbone, Rng& rng,
         FpmGrouping grouping = FpmGrouping::AdjacentChannels);
  // x {N,H,W,3}, H and W divisible by 32. Deep supervision: scales 0..3, every auxiliary task.
  ModelOutput forward(const Tensor& x) override;

 private:
  std::shared_ptr<HRNet> backbone_;
  std::shared_ptr<FeaturePropagation> fpm_[4];  // indices 1..3 (none at scale 0)
  std::shared_ptr<InitialTaskPrediction> scale_[4];
  std::shared_ptr<MultiTaskDistillation> distillation_[4];
  std::map<std::string, std::shared_ptr<HighResolutionHead>> heads_;
};

// Reorders channels from groups-major to members-major: channel g*M + m of the result is channel m*G + g of x, for
// x with G*M channels (G groups of M). interleave_channels(x, N, C) turns a task-major concatenation of N tasks x C
// channels into channel-major order; interleave_channels(y, C, N) turns it back.
Tensor interleave_channels(const Tensor& x, int64_t groups, int64_t members);

// Throws an Error naming the size unless x is {N,H,W,3} with H and W divisible by `multiple`.
void check_input_size(const Tensor& x, int64_t multiple, const char* model);

}  // namespace mtinet
