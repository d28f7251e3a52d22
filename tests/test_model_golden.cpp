// MTI-Net (NYUD, HRNet-W18-small-v2) against an independent PyTorch implementation (tools/golden/mtinet_model.py):
// both sides fill every state_dict entry and the input from the same exact integer formula, run an eval forward,
// then a train forward + backward in f64; the fixture holds strided samples of outputs, deep-supervision
// predictions, gradients and updated BN running statistics. Agreement is required to 1e-8 relative L2.
#include <cmath>

#include "core/autograd.h"
#include "core/layout.h"
#include "core/ops.h"
#include "model/mtinet.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::test;

namespace {

// The formula of tools/golden/mtinet_model.py (formula_values / formula_tensor / formula_input).
double formula_value(uint64_t k, uint64_t salt) {
  return double((k * 2654435761ULL + salt * 40503ULL + 12345ULL) % 65536ULL) / 65536.0;
}

Tensor formula_entry(const std::string& name, const Shape& shape, uint64_t salt) {
  if (name.size() >= 19 && name.compare(name.size() - 19, 19, "num_batches_tracked") == 0)
    return Tensor::zeros(shape, DType::I64);
  auto ends_with = [&](const char* s) {
    std::string suffix(s);
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  Tensor t = Tensor::empty(shape, DType::F64);
  double* p = t.data<double>();
  int64_t fan = 1;
  for (size_t i = 1; i < shape.size(); ++i) fan *= shape[i];
  const double root = std::sqrt(double(fan));
  for (int64_t k = 0; k < t.numel(); ++k) {
    double u = formula_value(uint64_t(k), salt);
    if (ends_with("running_var")) p[k] = 1.0 + 0.5 * u;
    else if (shape.size() >= 2) p[k] = (2.0 * u - 1.0) / root;
    else if (ends_with("weight")) p[k] = 1.0 + (2.0 * u - 1.0) / 16.0;
    else p[k] = (2.0 * u - 1.0) / 16.0;
  }
  return t;
}

Tensor formula_input(const Shape& nchw) {
  Tensor t = Tensor::empty(nchw, DType::F64);
  for (int64_t k = 0; k < t.numel(); ++k) t.data<double>()[k] = 4.0 * formula_value(uint64_t(k), 999983) - 2.0;
  return t;
}

// flat[::max(1, numel // 1000)] of a PyTorch-layout tensor.
Tensor sample(const Tensor& t) {
  std::vector<double> v = t.to_double_vector();
  int64_t stride = std::max<int64_t>(1, int64_t(v.size()) / 1000);
  std::vector<double> out;
  for (size_t i = 0; i < v.size(); i += size_t(stride)) out.push_back(v[i]);
  return Tensor::from_vector<double>({int64_t(out.size())}, out);
}

void check_golden(const SafetensorsContents& golden, const std::string& key, const Tensor& ours_pytorch_layout) {
  CAPTURE(key);
  REQUIRE(golden.contains(key));
  Tensor mine = golden.at(key).ndim() == 0 ? ours_pytorch_layout : sample(ours_pytorch_layout);
  REQUIRE(mine.shape() == golden.at(key).shape());
  double err = rel_l2(mine, golden.at(key));
  CAPTURE(err);
  CHECK(err <= 1e-8);
}

}  // namespace

TEST_CASE("MTI-Net NYUD matches the PyTorch golden model in f64") {
  SafetensorsContents golden = load_fixture("mtinet_model_nyud.safetensors");
  Rng rng(0);
  MtiNet model(nyud_tasks(), HRNetConfig::w18_small_v2(), rng);
  model.to(DType::F64);

  SafetensorsContents weights;
  weights.source = "formula weights";
  uint64_t salt = 0;
  for (const auto& [name, t] : model.state_dict())
    weights.tensors.emplace_back(name, formula_entry(name, t.shape(), salt++));
  model.load_state_dict(weights, true);

  Tensor x = nchw_to_nhwc(formula_input({2, 3, 64, 64}));
  x.set_requires_grad(true);

  model.eval();
  {
    NoGradGuard no_grad;
    ModelOutput out = model.forward(x);
    for (const auto& [task, y] : out.tasks) check_golden(golden, "eval." + task, nhwc_to_nchw(y));
  }

  model.train();
  ModelOutput out = model.forward(x);
  Tensor loss;
  auto add = [&](const Tensor& y) {
    Tensor term = ops::mean(ops::mul(y, y));
    loss = loss.defined() ? ops::add(loss, term) : term;
  };
  for (const auto& [task, y] : out.tasks) {
    check_golden(golden, "train." + task, nhwc_to_nchw(y));
    add(y);
  }
  for (size_t s = 0; s < out.deep_supervision.size(); ++s)
    for (const auto& [task, y] : out.deep_supervision[s]) {
      check_golden(golden, "train.deep_supervision." + std::to_string(s) + "." + task, nhwc_to_nchw(y));
      add(y);
    }
  check_golden(golden, "train.loss", loss);
  loss.backward();
  check_golden(golden, "grad.input", nhwc_to_nchw(x.grad()));

  int checked_grads = 0, checked_buffers = 0;
  for (const StateEntry& e : model.state_entries()) {
    if (!e.is_buffer && golden.contains("grad." + e.name)) {
      Tensor g = e.tensor.grad();
      check_golden(golden, "grad." + e.name, e.layout == ExportLayout::ConvWeight ? ohwi_to_oihw(g) : g);
      ++checked_grads;
    }
    if (e.is_buffer && golden.contains("buffer." + e.name)) {
      check_golden(golden, "buffer." + e.name, e.tensor);
      ++checked_buffers;
    }
  }
  CHECK(checked_grads == 12);
  CHECK(checked_buffers == 4);
}
