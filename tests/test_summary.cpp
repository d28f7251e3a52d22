// The profiler and the model summary: exact MAC counts of a hand-computable network and of NYUD MTI-Net (derived
// from the architecture, and the reference's 17.14 GMACs at 480x640), the module tree, kernel timing records,
// the profiler costing nothing when off, and the saved-for-backward accounting.
#include <map>

#include "core/autograd.h"
#include "core/ops.h"
#include "core/profiler.h"
#include "eval/model_summary.h"
#include "kernels/elementwise/elementwise.h"
#include "layers/conv2d.h"
#include "model/factory.h"
#include "test_util.h"

using namespace mtinet;

namespace {

// conv 3->4 (3x3, stride 2, padding 1, bias) -> global mean pool -> linear 4->6.
class ConvThenLinear : public Module {
 public:
  explicit ConvThenLinear(Rng& rng) {
    conv = register_module("conv", std::make_shared<Conv2d>(Conv2dSpec{3, 4, 3, 2, 1, 1, true}, rng));
    fc = register_module("fc", std::make_shared<Linear>(4, 6, rng));
  }
  Tensor forward(const Tensor& x) { return fc->forward(ops::global_avg_pool(conv->forward(x))); }
  std::shared_ptr<Conv2d> conv;
  std::shared_ptr<Linear> fc;
};

int64_t macs_under(const std::vector<NamedMacs>& macs, const std::string& prefix) {
  int64_t total = 0;
  for (const NamedMacs& m : macs)
    if (m.weight.compare(0, prefix.size(), prefix) == 0) total += m.macs;
  return total;
}

// HRNetV2-W18-small-v2 forward MACs (convolutions only; the backbone has no linear layer) at an input of h x w
// divisible by 32, from the architecture in docs/architecture.md: P[s] = pixels at stride 4 * 2^s.
int64_t hrnet_w18_small_v2_macs(int64_t h, int64_t w) {
  const int64_t c[4] = {18, 36, 72, 144};
  int64_t p[4];
  for (int s = 0; s < 4; ++s) p[s] = (h / 4 >> s) * (w / 4 >> s);
  int64_t m = (h / 2) * (w / 2) * 64 * 3 * 9 + p[0] * 64 * 64 * 9;  // stem
  m += p[0] * (64 * 64 + 64 * 64 * 9 + 64 * 256 + 64 * 256);        // bottleneck 1 (+ 1x1 downsample)
  m += p[0] * (256 * 64 + 64 * 64 * 9 + 64 * 256);                   // bottleneck 2
  m += p[0] * 256 * 18 * 9 + p[1] * 256 * 36 * 9;                    // transition1
  auto module = [&](int branches) {
    int64_t t = 0;
    for (int i = 0; i < branches; ++i) t += 4 * 9 * c[i] * c[i] * p[i];  // 2 BasicBlocks per branch
    for (int i = 0; i < branches; ++i) {
      for (int j = 0; j < branches; ++j) {
        if (j > i) t += p[j] * c[j] * c[i];  // 1x1 at the coarser input's resolution, then upsampled
        for (int k = 0; j < i && k < i - j; ++k) t += p[j + k + 1] * c[j] * (k == i - j - 1 ? c[i] : c[j]) * 9;
      }
    }
    return t;
  };
  m += module(2) + p[2] * 36 * 72 * 9 + 3 * module(3) + p[3] * 72 * 144 * 9 + 2 * module(4);
  return m;
}

// The MTI-Net decoder's MACs for NYUD (semseg 40, depth 1; all tasks main and auxiliary), convolutions only.
int64_t mtinet_nyud_decoder_conv_macs(int64_t h, int64_t w) {
  const int64_t c[4] = {18, 36, 72, 144}, k[2] = {40, 1}, tasks = 2;
  int64_t p[4];
  for (int s = 0; s < 4; ++s) p[s] = (h / 4 >> s) * (w / 4 >> s);
  int64_t m = 0;
  for (int64_t out : k) {
    m += p[3] * (4 * 9 * 144 * 144 + 144 * out);  // initial prediction at scale 3
    for (int s = 2; s >= 0; --s) {
      int64_t in = c[s] + c[s + 1];
      m += p[s] * (9 * in * c[s] + 9 * c[s] * c[s] + in * c[s] + 2 * 9 * c[s] * c[s] + c[s] * out);
    }
    m += p[0] * (270 * 270 + 270 * out);  // aggregation head
  }
  for (int s = 1; s <= 3; ++s) {  // feature propagation: non_linear, dimensionality_reduction
    int64_t nc = tasks * c[s], q = nc / 4;
    m += p[s] * (9 * nc * q + 9 * q * q + nc * q + 2 * 9 * q * q + q * nc);
    m += p[s] * (9 * nc * c[s] + 9 * c[s] * c[s] + nc * c[s]);
  }
  for (int s = 0; s < 4; ++s) m += tasks * (tasks - 1) * 2 * 9 * c[s] * c[s] * p[s];  // distillation SABlocks
  return m;
}

}  // namespace

TEST_CASE("MAC counts of a conv and a linear layer are exact and named by their weights") {
  Rng rng(3);
  ConvThenLinear net(rng);
  Tensor x = Tensor::zeros({2, 5, 7, 3});
  std::vector<NamedMacs> macs = count_named_macs(net, [&] { net.forward(x); });
  REQUIRE(macs.size() == 2);
  // conv: output 2 x 3 x 4 x 4 (floor((5+2-3)/2)+1 = 3, floor((7+2-3)/2)+1 = 4), 3*3*3 taps per output.
  CHECK(macs[0].weight == "conv.weight");
  CHECK(macs[0].op == std::string("conv2d"));
  CHECK(macs[0].output == Shape{2, 3, 4, 4});
  CHECK(macs[0].macs == 2 * 3 * 4 * 4 * 3 * 3 * 3);
  CHECK(macs[1].weight == "fc.weight");
  CHECK(macs[1].output == Shape{2, 6});
  CHECK(macs[1].macs == 2 * 6 * 4);

  std::vector<ModuleRow> rows = module_tree(net, macs, 1);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].prefix == "conv");
  CHECK(rows[0].params == 4 * 3 * 3 * 3 + 4);
  CHECK(rows[0].macs == 2592);
  CHECK(rows[0].last_output == Shape{2, 3, 4, 4});
  CHECK(rows[1].prefix == "fc");
  CHECK(rows[1].params == 6 * 4 + 6);
  CHECK(rows[1].macs == 48);
}

TEST_CASE("the profiler records nothing while it is off") {
  Rng rng(4);
  ConvThenLinear net(rng);
  profiler::reset();
  net.forward(Tensor::zeros({1, 4, 4, 3}));
  CHECK(profiler::mac_records().empty());
  CHECK(profiler::kernel_stats().empty());
  CHECK_FALSE(profiler::timing_enabled());
  CHECK_FALSE(profiler::macs_enabled());
}

TEST_CASE("kernel timing counts each kernel call under the dispatch name, once") {
  Rng rng(5);
  ConvThenLinear net(rng);
  Tensor x = Tensor::zeros({1, 4, 4, 3});
  {
    profiler::ProfileGuard on(/*timing=*/true, /*macs=*/false);
    profiler::reset();
    net.forward(x);
    net.forward(x);
  }
  std::map<std::string, int64_t> calls;
  for (const profiler::KernelStat& s : profiler::kernel_stats()) {
    calls[s.name] += s.calls;
    CHECK(s.device == Device::CPU);
    CHECK(s.total_ms >= 0);
  }
  CHECK(calls["conv2d_forward"] == 2);
  CHECK(calls["linear_forward"] == 2);
  CHECK(calls["global_avg_pool_forward"] == 2);
  CHECK(profiler::mac_records().empty());  // MAC counting stayed off
  profiler::reset();
  CHECK_FALSE(profiler::timing_enabled());  // the guard restored the switch
}

TEST_CASE("a kernel that throws under timing is not recorded and leaves the profiler usable") {
  Tensor bad = Tensor::zeros({3}, DType::I64), out = Tensor::zeros({3}, DType::I64);
  Tensor x = Tensor::zeros({3}), y = Tensor::zeros({3});
  profiler::ProfileGuard on(/*timing=*/true, /*macs=*/false);
  profiler::reset();
  CHECK_THROWS_AS(kernels::relu_forward(bad, out), Error);  // i64 is not a float type
  kernels::relu_forward(x, y);  // recorded: the failed scope did not leave a nesting level behind
  std::vector<profiler::KernelStat> stats = profiler::kernel_stats();
  REQUIRE(stats.size() == 1);
  CHECK(stats[0].name == "relu_forward");
  CHECK(stats[0].calls == 1);
  profiler::reset();
}

TEST_CASE("NYUD MTI-Net: parameters and MACs match the architecture and the reference's 17.14 GMACs") {
  auto model = build_model(nlohmann::json{{"model", "mtinet"}, {"tasks", "nyud"}});
  model->train(false);
  const int64_t h = 64, w = 96;
  std::vector<NamedMacs> macs = count_named_macs(*model, [&] {
    NoGradGuard no_grad;
    model->forward(Tensor::zeros({1, h, w, 3}));
  });
  int64_t total = 0, linear = 0;
  for (const NamedMacs& m : macs) {
    CHECK(m.weight != "<unnamed>");
    total += m.macs;
    if (m.op == std::string("linear")) linear += m.macs;
  }
  // Backbone: the architecture formula; it gives the reference's 9.76 GMACs at 480x640.
  CHECK(macs_under(macs, "backbone.") == hrnet_w18_small_v2_macs(h, w));
  CHECK(hrnet_w18_small_v2_macs(h, w) == 195'203'136);
  CHECK(double(hrnet_w18_small_v2_macs(480, 640)) == doctest::Approx(9.76e9).epsilon(0.0005));
  // SE gates: per task and scale 1..3, Linear(C, C/16) and back; independent of the image size.
  CHECK(linear == 2 * 2 * (36 * 2 + 72 * 4 + 144 * 9));
  CHECK(total - linear == hrnet_w18_small_v2_macs(h, w) + mtinet_nyud_decoder_conv_macs(h, w));
  // Convolutions scale exactly with the pixel count: 480x640 has 50 times the pixels of 64x96.
  const int64_t full = 50 * (total - linear) + linear;
  CHECK(full == 17'142'309'024);
  CHECK(double(full) == doctest::Approx(17.14e9).epsilon(0.0005));

  int64_t backbone_params = 0;
  for (const StateEntry& e : model->state_entries())
    if (!e.is_buffer && e.name.compare(0, 9, "backbone.") == 0) backbone_params += e.tensor.numel();
  CHECK(backbone_params == 3'860'720);
  CHECK(model->parameter_count() == 8'578'179);
  std::vector<ModuleRow> rows = module_tree(*model, macs, 1);
  REQUIRE(!rows.empty());
  CHECK(rows[0].prefix == "backbone");
  CHECK(rows[0].params == 3'860'720);
  CHECK(rows[0].last_output == Shape{1, h / 32, w / 32, 144});
}

TEST_CASE("saved-for-backward bytes count each storage once and leave out the excluded ones") {
  Tensor x = Tensor::full({4}, 2.0, DType::F64).set_requires_grad(true);
  Tensor y = ops::mul(x, x);        // saves x twice: one storage
  Tensor z = ops::sigmoid(y);       // saves its output z
  Tensor s = ops::sum(ops::add(z, y));  // add saves nothing
  CHECK(saved_for_backward_bytes({s}, {}) == 2 * 4 * 8);
  CHECK(saved_for_backward_bytes({s}, {x}) == 4 * 8);
  CHECK(saved_for_backward_bytes({x}, {}) == 0);  // a leaf has no graph
  SavedBytes by_op = saved_for_backward({s}, {});
  CHECK(by_op.by_op.size() == 2);
  CHECK(by_op.by_op["mul"] == 4 * 8);
  CHECK(by_op.by_op["sigmoid"] == 4 * 8);
}
