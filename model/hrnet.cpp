#include "model/hrnet.h"

#include "core/ops.h"

namespace mtinet {

HRNetConfig HRNetConfig::w18_small_v2() { return HRNetConfig{}; }

HRNetConfig HRNetConfig::w18() {
  HRNetConfig c;
  c.layer1_blocks = 4;
  c.stage2 = {1, {4, 4}, {18, 36}};
  c.stage3 = {4, {4, 4, 4}, {18, 36, 72}};
  c.stage4 = {3, {4, 4, 4, 4}, {18, 36, 72, 144}};
  return c;
}

HRNetConfig HRNetConfig::w48() {
  HRNetConfig c = w18();
  c.stage2.channels = {48, 96};
  c.stage3.channels = {48, 96, 192};
  c.stage4.channels = {48, 96, 192, 384};
  return c;
}

HRNetConfig HRNetConfig::tiny() {
  HRNetConfig c;
  c.stem_channels = 16;
  c.layer1_blocks = 1;
  c.layer1_planes = 8;
  // Branch 1 keeps 16 channels: MTI-Net's SE blocks (reduction 16) at scales 1..3 need at least 16.
  c.stage2 = {1, {1, 1}, {8, 16}};
  c.stage3 = {1, {1, 1, 1}, {8, 16, 32}};
  c.stage4 = {1, {1, 1, 1, 1}, {8, 16, 32, 64}};
  return c;
}

HRNetConfig HRNetConfig::by_name(const std::string& name) {
  if (name == "hrnet_w18_small_v2") return w18_small_v2();
  if (name == "hrnet_w18") return w18();
  if (name == "hrnet_w48") return w48();
  if (name == "hrnet_tiny") return tiny();
  MTINET_FAIL("unknown backbone '", name, "' (expected hrnet_w18_small_v2, hrnet_w18, hrnet_w48 or hrnet_tiny)");
}

namespace {
Conv2dSpec conv3x3(int64_t in, int64_t out, int stride) { return Conv2dSpec{in, out, 3, stride, 1}; }
Conv2dSpec conv1x1(int64_t in, int64_t out) { return Conv2dSpec{in, out, 1, 1, 0}; }
}  // namespace

HighResolutionModule::HighResolutionModule(const std::vector<int64_t>& channels, const std::vector<int>& blocks,
                                           double bn_momentum, Rng& rng) {
  const size_t n = channels.size();
  MTINET_CHECK(n > 0 && blocks.size() == n, "HighResolutionModule: ", n, " branch channel counts but ",
               blocks.size(), " block counts");
  auto branches = register_module("branches", std::make_shared<ModuleDict>());
  for (size_t i = 0; i < n; ++i) {
    auto branch = std::make_shared<Sequential>();
    for (int b = 0; b < blocks[i]; ++b)
      branch->push_back(std::make_shared<BasicBlock>(channels[i], channels[i], rng, 1, bn_momentum));
    branches_.push_back(branches->add(std::to_string(i), branch));
  }
  if (n == 1) return;  // a single branch has nothing to fuse
  auto fuse_layers = register_module("fuse_layers", std::make_shared<ModuleDict>());
  fuse_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    auto row = fuse_layers->add(std::to_string(i), std::make_shared<ModuleDict>());
    fuse_[i].resize(n);
    for (size_t j = 0; j < n; ++j) {
      std::shared_ptr<Sequential> f;
      if (j > i) {
        // 1x1 conv to branch i's channels; the bilinear upsample happens in forward.
        f = conv_bn(conv1x1(channels[j], channels[i]), rng, bn_momentum);
      } else if (j < i) {
        // (i - j) stride-2 3x3 convs; intermediate ones keep branch j's channels and end with ReLU.
        f = std::make_shared<Sequential>();
        for (size_t k = 0; k < i - j; ++k) {
          bool last = k + 1 == i - j;
          f->push_back(conv_bn(conv3x3(channels[j], last ? channels[i] : channels[j], 2), rng, bn_momentum, !last));
        }
      }
      if (f) fuse_[i][j] = row->add(std::to_string(j), f);
    }
  }
}

std::vector<Tensor> HighResolutionModule::forward(const std::vector<Tensor>& xs) {
  const size_t n = branches_.size();
  MTINET_CHECK(xs.size() == n, "HighResolutionModule: expected ", n, " branch inputs, got ", xs.size());
  std::vector<Tensor> b(n);
  for (size_t i = 0; i < n; ++i) b[i] = branches_[i]->forward(xs[i]);
  if (n == 1) return b;
  std::vector<Tensor> out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t h = b[i].dim(1), w = b[i].dim(2);
    // Same summation order as the reference: branch 0 first, then 1, 2, ...
    Tensor y;
    for (size_t j = 0; j < n; ++j) {
      Tensor term = b[j];
      if (j > i) term = ops::resize_bilinear(fuse_[i][j]->forward(b[j]), h, w);
      else if (j < i) term = fuse_[i][j]->forward(b[j]);
      y = y.defined() ? ops::add(y, term) : term;
    }
    out[i] = ops::relu(y);
  }
  return out;
}

HRNet::HRNet(const HRNetConfig& config, Rng& rng) : config_(config) {
  const int64_t stem = config.stem_channels;
  const double m = config.bn_momentum;
  conv1_ = register_module("conv1", std::make_shared<Conv2d>(conv3x3(3, stem, 2), rng));
  bn1_ = register_module("bn1", std::make_shared<BatchNorm2d>(stem, m));
  conv2_ = register_module("conv2", std::make_shared<Conv2d>(conv3x3(stem, stem, 2), rng));
  bn2_ = register_module("bn2", std::make_shared<BatchNorm2d>(stem, m));

  layer1_ = register_module("layer1", std::make_shared<Sequential>());
  int64_t in = stem;
  for (int b = 0; b < config.layer1_blocks; ++b) {
    layer1_->push_back(std::make_shared<Bottleneck>(in, config.layer1_planes, rng, 1, m));
    in = config.layer1_planes * Bottleneck::kExpansion;
  }

  stages_[0] = make_stage("1", {in}, config.stage2, rng);
  stages_[1] = make_stage("2", config.stage2.channels, config.stage3, rng);
  stages_[2] = make_stage("3", config.stage3.channels, config.stage4, rng);
}

HRNet::Stage HRNet::make_stage(const std::string& index, const std::vector<int64_t>& pre,
                               const HRNetStageConfig& cfg, Rng& rng) {
  const size_t n = cfg.channels.size();
  MTINET_CHECK(n >= pre.size() && cfg.blocks.size() == n && cfg.modules > 0, "HRNet: stage after transition",
               index, " has ", n, " branches, ", cfg.blocks.size(), " block counts, ", cfg.modules, " modules");
  const double m = config_.bn_momentum;
  Stage stage;
  stage.transition.resize(n);
  // transition<k>: key i exists only where branch i needs a conv (PyTorch's ModuleList holds None elsewhere).
  auto transition = register_module("transition" + index, std::make_shared<ModuleDict>());
  for (size_t i = 0; i < n; ++i) {
    std::shared_ptr<Sequential> t;
    if (i < pre.size()) {
      if (pre[i] != cfg.channels[i]) t = conv_bn(conv3x3(pre[i], cfg.channels[i], 1), rng, m, true);
    } else {
      // A new, lower-resolution branch from the last existing one: stride-2 convs, the last one to its channels.
      t = std::make_shared<Sequential>();
      const size_t steps = i + 1 - pre.size();
      for (size_t k = 0; k < steps; ++k) {
        int64_t out = k + 1 == steps ? cfg.channels[i] : pre.back();
        t->push_back(conv_bn(conv3x3(pre.back(), out, 2), rng, m, true));
      }
    }
    if (t) stage.transition[i] = transition->add(std::to_string(i), t);
  }
  auto modules = register_module("stage" + std::to_string(std::stoi(index) + 1), std::make_shared<ModuleDict>());
  for (int k = 0; k < cfg.modules; ++k)
    stage.modules.push_back(modules->add(
        std::to_string(k), std::make_shared<HighResolutionModule>(cfg.channels, cfg.blocks, m, rng)));
  return stage;
}

std::vector<Tensor> HRNet::run_stage(Stage& stage, const std::vector<Tensor>& xs) {
  std::vector<Tensor> ys(stage.transition.size());
  for (size_t i = 0; i < ys.size(); ++i) {
    const Tensor& src = i < xs.size() ? xs[i] : xs.back();
    ys[i] = stage.transition[i] ? stage.transition[i]->forward(src) : src;
  }
  for (auto& module : stage.modules) ys = module->forward(ys);
  return ys;
}

std::vector<Tensor> HRNet::forward(const Tensor& x) {
  MTINET_CHECK(x.ndim() == 4 && x.dim(3) == 3, "HRNet: input ", x.describe(), " must be {N,H,W,3}");
  Tensor y = bn1_->forward_relu(conv1_->forward(x));
  y = bn2_->forward_relu(conv2_->forward(y));
  y = layer1_->forward(y);
  std::vector<Tensor> xs{y};
  for (Stage& stage : stages_) xs = run_stage(stage, xs);
  return xs;
}

LoadReport load_hrnet_pretrained(HRNet& backbone, const SafetensorsContents& file) {
  static const char* const kHeadPrefixes[] = {"incre_modules.", "downsamp_modules.", "final_layer.", "classifier."};
  auto starts_with = [](const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; };
  SafetensorsContents kept;
  kept.source = file.source;
  kept.metadata = file.metadata;
  for (const auto& [key, t] : file.tensors) {
    std::string name = key;
    for (const char* prefix : {"module.", "backbone."})
      if (starts_with(name, prefix)) name = name.substr(std::string(prefix).size());
    bool head = false;
    for (const char* prefix : kHeadPrefixes) head = head || starts_with(name, prefix);
    if (!head) kept.tensors.emplace_back(name, t);
  }
  LoadReport report = backbone.load_state_dict(kept, false);
  std::vector<std::string> missing;
  for (const std::string& m : report.missing)
    if (m.size() < 19 || m.compare(m.size() - 19, 19, "num_batches_tracked") != 0) missing.push_back(m);
  if (!missing.empty() || !report.unexpected.empty() || !report.mismatched.empty()) {
    LoadReport problems = report;
    problems.missing = missing;
    MTINET_FAIL("pretrained HRNet weights '", file.source, "' do not fit the backbone: ", problems.summary());
  }
  return report;
}

}  // namespace mtinet
