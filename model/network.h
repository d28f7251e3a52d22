// The interface every multi-task model implements: NHWC image batch in, per-task predictions out.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "layers/module.h"
#include "model/tasks.h"

namespace mtinet {

struct ModelOutput {
  // Final prediction per main task: NHWC {N,H,W,K} at the input resolution, raw (logits / linear values).
  std::map<std::string, Tensor> tasks;
  // Intermediate predictions for deep supervision: deep_supervision[s] maps each auxiliary task to its prediction
  // at scale s (stride 4 * 2^s), NHWC. MTI-Net fills scales 0..3, PAD-Net scale 0 only, baselines nothing.
  std::vector<std::map<std::string, Tensor>> deep_supervision;
};

class HRNet;

class MultiTaskNetwork : public Module {
 public:
  explicit MultiTaskNetwork(TaskSet tasks) : tasks_(std::move(tasks)) {}
  virtual ModelOutput forward(const Tensor& x) = 0;
  const TaskSet& tasks() const { return tasks_; }
  // The HRNet the model is built on, e.g. to initialise it from ImageNet-pretrained weights.
  HRNet& backbone() const {
    MTINET_CHECK(backbone_ != nullptr, "this model registered no backbone");
    return *backbone_;
  }

 protected:
  void set_backbone(std::shared_ptr<HRNet> backbone) { backbone_ = std::move(backbone); }

 private:
  TaskSet tasks_;
  std::shared_ptr<HRNet> backbone_;
};

}  // namespace mtinet
