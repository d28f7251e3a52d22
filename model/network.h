// The interface every multi-task model implements: NHWC image batch in, per-task predictions out.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "layers/module.h"
#include "model/tasks.h"

namespace mtinet {

// How a forward hands over the main tasks' final predictions.
enum class FinalPredictions {
  AtInputSize,      // ModelOutput::tasks, upsampled to the input size: evaluation, prediction, anything that reads them
  BeforeUpsampling  // ModelOutput::tasks_before_upsampling, for the training loss (see there); `tasks` stays empty
};

struct ModelOutput {
  // Final prediction per main task: NHWC {N,H,W,K} at the input resolution, raw (logits / linear values).
  std::map<std::string, Tensor> tasks;
  // With FinalPredictions::BeforeUpsampling: each main task's prediction before its last step, the bilinear
  // upsampling to upsampled_size (the input's H, W). compute_task_losses takes L(resize_bilinear(y)) from these through
  // the upsampled losses (train/task_losses.h): the numbers of `tasks`, without storing the full-resolution maps.
  std::map<std::string, Tensor> tasks_before_upsampling;
  int64_t upsampled_size[2] = {0, 0};
  // Intermediate predictions for deep supervision: deep_supervision[s] maps each auxiliary task to its prediction
  // at scale s (stride 4 * 2^s), NHWC. MTI-Net fills scales 0..3, PAD-Net scale 0 only, baselines nothing.
  std::vector<std::map<std::string, Tensor>> deep_supervision;
};

class HRNet;

class MultiTaskNetwork : public Module {
 public:
  explicit MultiTaskNetwork(TaskSet tasks) : tasks_(std::move(tasks)) {}
  ModelOutput forward(const Tensor& x, FinalPredictions finals = FinalPredictions::AtInputSize) {
    return forward_impl(x, finals);
  }
  const TaskSet& tasks() const { return tasks_; }
  // The HRNet the model is built on, e.g. to initialise it from ImageNet-pretrained weights.
  HRNet& backbone() const {
    MTINET_CHECK(backbone_ != nullptr, "this model registered no backbone");
    return *backbone_;
  }

 protected:
  virtual ModelOutput forward_impl(const Tensor& x, FinalPredictions finals) = 0;
  void set_backbone(std::shared_ptr<HRNet> backbone) { backbone_ = std::move(backbone); }
  // Hands over main task `task`'s head output y as `finals` asks: upsampled bilinearly to x's size, or as it is.
  static void set_final(ModelOutput& out, const std::string& task, const Tensor& y, const Tensor& x,
                        FinalPredictions finals);

 private:
  TaskSet tasks_;
  std::shared_ptr<HRNet> backbone_;
};

}  // namespace mtinet
