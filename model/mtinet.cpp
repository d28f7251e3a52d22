#include "model/mtinet.h"

#include "core/ops.h"

namespace mtinet {

void check_input_size(const Tensor& x, int64_t multiple, const char* model) {
  MTINET_CHECK(x.ndim() == 4 && x.dim(3) == 3, model, ": input ", x.describe(), " must be an NHWC {N,H,W,3} batch");
  MTINET_CHECK(x.dim(1) % multiple == 0 && x.dim(2) % multiple == 0, model, ": input size ", x.dim(1), "x",
               x.dim(2), " (HxW) is not divisible by ", multiple,
               " (the decoder upsamples each scale by exactly 2); resize or pad the input");
}

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

Tensor interleave_channels(const Tensor& x, int64_t groups, int64_t members) {
  MTINET_CHECK(x.ndim() >= 1 && x.dim(-1) == groups * members, "interleave_channels: input ", x.describe(),
               " does not have ", groups, " x ", members, " channels");
  std::vector<Tensor> parts;
  parts.reserve(size_t(groups * members));
  for (int64_t m = 0; m < members; ++m)
    for (int64_t g = 0; g < groups; ++g) parts.push_back(ops::slice_channels(x, g * members + m, g * members + m + 1));
  return ops::concat_channels(parts);
}

FeaturePropagation::FeaturePropagation(const std::vector<std::string>& auxiliary, int64_t channels, Rng& rng,
                                       FpmGrouping grouping)
    : grouping_(grouping), tasks_(auxiliary) {
  const int64_t shared = int64_t(auxiliary.size()) * channels;
  MTINET_CHECK(shared / 4 > 0, "FeaturePropagation: ", auxiliary.size(), " tasks x ", channels,
               " channels is too small");
  non_linear_ = register_module("non_linear", std::make_shared<Sequential>());
  non_linear_->push_back(std::make_shared<BasicBlock>(shared, shared / 4, rng));
  non_linear_->push_back(std::make_shared<BasicBlock>(shared / 4, shared / 4, rng));
  non_linear_->push_back(std::make_shared<Conv2d>(Conv2dSpec{shared / 4, shared, 1, 1, 0, 1, true}, rng));
  dimensionality_reduction_ =
      register_module("dimensionality_reduction", std::make_shared<BasicBlock>(shared, channels, rng));
  auto se = register_module("se", std::make_shared<ModuleDict>());
  for (const std::string& t : tasks_) se_[t] = se->add(t, std::make_shared<SEBlock>(channels, rng));
}

std::map<std::string, Tensor> FeaturePropagation::forward(const std::map<std::string, Tensor>& features) {
  std::vector<Tensor> parts;
  for (const std::string& t : tasks_) parts.push_back(feature_of(features, t, "FeaturePropagation"));
  Tensor concat = ops::concat_channels(parts);  // task-major: channel n*C + c is task n's channel c
  const int64_t n = int64_t(tasks_.size()), c = concat.dim(-1) / n;
  Tensor logits = non_linear_->forward(concat);
  Tensor mask;
  if (grouping_ == FpmGrouping::AdjacentChannels) {
    // The reference views the N*C channels as (C, N) and softmaxes over N: groups of N adjacent channels.
    mask = ops::grouped_softmax(logits, n);
  } else {
    // Bring the N copies of each channel together, softmax over them, and restore the task-major order.
    mask = interleave_channels(ops::grouped_softmax(interleave_channels(logits, n, c), n), c, n);
  }
  Tensor shared = dimensionality_reduction_->forward(ops::mul(mask, concat));
  std::map<std::string, Tensor> out;
  for (const std::string& t : tasks_) out[t] = ops::add(se_[t]->forward(shared), features.at(t));
  return out;
}

MtiNet::MtiNet(const TaskSet& tasks, const HRNetConfig& backbone, Rng& rng, FpmGrouping grouping)
    : MultiTaskNetwork(tasks) {
  const std::vector<int64_t>& c = backbone.out_channels();
  MTINET_CHECK(c.size() == 4, "MTI-Net needs a 4-branch backbone, got ", c.size(), " branches");
  MTINET_CHECK(!tasks.main.empty(), "MTI-Net: task set '", tasks.name, "' has no main task");
  for (const TaskSpec& t : tasks.main) tasks.spec(t.name);  // main tasks must be auxiliary tasks too
  const std::vector<std::string> aux = tasks.auxiliary_names();
  backbone_ = register_module("backbone", std::make_shared<HRNet>(backbone, rng));
  set_backbone(backbone_);
  for (int s = 3; s >= 1; --s)
    fpm_[s] = register_module("fpm_scale_" + std::to_string(s),
                              std::make_shared<FeaturePropagation>(aux, c[s], rng, grouping));
  for (int s = 0; s < 4; ++s) {
    int64_t in = s < 3 ? c[s] + c[s + 1] : c[s];
    scale_[s] = register_module("scale_" + std::to_string(s),
                                std::make_shared<InitialTaskPrediction>(tasks.auxiliary, in, c[s], rng));
  }
  for (int s = 0; s < 4; ++s)
    distillation_[s] = register_module("distillation_scale_" + std::to_string(s),
                                       std::make_shared<MultiTaskDistillation>(tasks.main_names(), aux, c[s], rng));
  auto heads = register_module("heads", std::make_shared<ModuleDict>());
  for (const TaskSpec& t : tasks.main)
    heads_[t.name] = heads->add(t.name, std::make_shared<HighResolutionHead>(c, t.channels, rng, 0.1));
}

ModelOutput MtiNet::forward(const Tensor& x) {
  check_input_size(x, 32, "MTI-Net");
  std::vector<Tensor> xs = backbone_->forward(x);
  // Coarse to fine: each scale's initial features pass through the FPM and feed the next finer scale.
  InitialTaskPrediction::Result r[4];
  r[3] = scale_[3]->forward(xs[3], nullptr);
  for (int s = 2; s >= 0; --s) {
    std::map<std::string, Tensor> propagated = fpm_[s + 1]->forward(r[s + 1].features);
    r[s] = scale_[s]->forward(xs[s], &propagated);
  }
  ModelOutput out;
  for (int s = 0; s < 4; ++s) out.deep_supervision.push_back(r[s].predictions);
  std::map<std::string, Tensor> distilled[4];
  for (int s = 0; s < 4; ++s) distilled[s] = distillation_[s]->forward(r[s].features);
  for (const TaskSpec& t : tasks().main) {
    Tensor y = heads_[t.name]->forward({distilled[0][t.name], distilled[1][t.name], distilled[2][t.name],
                                        distilled[3][t.name]});
    out.tasks[t.name] = ops::resize_bilinear(y, x.dim(1), x.dim(2));
  }
  return out;
}

}  // namespace mtinet
