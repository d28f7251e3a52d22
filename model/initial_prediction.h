// Initial task prediction, one per scale of MTI-Net (docs/architecture.md, "The network"): per auxiliary task, two BasicBlocks
// refine the scale's input into task features, and a 1x1 conv decodes them into the deep-supervised prediction.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/rng.h"
#include "layers/blocks.h"
#include "model/tasks.h"

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

}  // namespace mtinet
