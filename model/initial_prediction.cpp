#include "model/initial_prediction.h"

#include "core/ops.h"

namespace mtinet {

InitialTaskPrediction::InitialTaskPrediction(const std::vector<TaskSpec>& auxiliary, int64_t in_channels,
                                             int64_t task_channels, Rng& rng) {
  auto refinement = register_module("refinement", std::make_shared<ModuleDict>());
  auto decoders = register_module("decoders", std::make_shared<ModuleDict>());
  for (const TaskSpec& t : auxiliary) {
    tasks_.push_back(t.name);
    // BasicBlock builds the 1x1 conv + BN downsample exactly when in_channels != task_channels, as the reference.
    auto seq = std::make_shared<Sequential>();
    seq->push_back(std::make_shared<BasicBlock>(in_channels, task_channels, rng));
    seq->push_back(std::make_shared<BasicBlock>(task_channels, task_channels, rng));
    refinement_[t.name] = refinement->add(t.name, seq);
  }
  for (const TaskSpec& t : auxiliary)
    decoders_[t.name] =
        decoders->add(t.name, std::make_shared<Conv2d>(Conv2dSpec{task_channels, t.channels, 1, 1, 0, 1, true}, rng));
}

InitialTaskPrediction::Result InitialTaskPrediction::forward(const Tensor& x,
                                                             const std::map<std::string, Tensor>* propagated) {
  Result r;
  for (const std::string& t : tasks_) {
    Tensor in = x;
    if (propagated) {
      Tensor up = ops::resize_bilinear_scale(feature_of(*propagated, t, "InitialTaskPrediction"), 2.0, 2.0);
      in = ops::concat_channels({x, up});
    }
    Tensor f = refinement_[t]->forward(in);
    r.predictions[t] = decoders_[t]->forward(f);
    r.features[t] = f;
  }
  return r;
}

}  // namespace mtinet
