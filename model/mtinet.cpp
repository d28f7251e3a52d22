#include "model/mtinet.h"

#include "core/ops.h"
#include "layers/activation_tap.h"

namespace mtinet {

void check_input_size(const Tensor& x, int64_t multiple, const char* model) {
  MTINET_CHECK(x.ndim() == 4 && x.dim(3) == 3, model, ": input ", x.describe(), " must be an NHWC {N,H,W,3} batch");
  MTINET_CHECK(x.dim(1) % multiple == 0 && x.dim(2) % multiple == 0, model, ": input size ", x.dim(1), "x",
               x.dim(2), " (HxW) is not divisible by ", multiple,
               " (the decoder upsamples each scale by exactly 2); resize or pad the input");
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

ModelOutput MtiNet::forward_impl(const Tensor& x, FinalPredictions finals) {
  check_input_size(x, 32, "MTI-Net");
  std::vector<Tensor> xs = backbone_->forward(x);
  // Coarse to fine: each scale's initial features pass through the FPM and feed the next finer scale.
  InitialTaskPrediction::Result r[4];
  r[3] = scale_[3]->forward(xs[3], nullptr);
  for (int s = 2; s >= 0; --s) {
    tap::Scope scope("fpm_scale_" + std::to_string(s + 1));
    std::map<std::string, Tensor> propagated = fpm_[s + 1]->forward(r[s + 1].features);
    r[s] = scale_[s]->forward(xs[s], &propagated);
  }
  ModelOutput out;
  for (int s = 0; s < 4; ++s) out.deep_supervision.push_back(r[s].predictions);
  std::map<std::string, Tensor> distilled[4];
  for (int s = 0; s < 4; ++s) {
    tap::Scope scope("distillation_scale_" + std::to_string(s));
    distilled[s] = distillation_[s]->forward(r[s].features);
  }
  for (const TaskSpec& t : tasks().main) {
    Tensor y = heads_[t.name]->forward({distilled[0][t.name], distilled[1][t.name], distilled[2][t.name],
                                        distilled[3][t.name]});
    set_final(out, t.name, y, x, finals);
  }
  return out;
}

}  // namespace mtinet
