// MTI-Net (NYUD, NYUD + aux tasks, PASCAL) and PAD-Net on HRNet-W18-small-v2 against an independent PyTorch
// implementation (tools/golden/mtinet_model.py): both sides fill every state_dict entry and the input from the same
// exact integer formula, run an eval forward, then a train forward + backward in f64; the fixtures hold strided
// samples of outputs, deep-supervision predictions, gradients and updated BN running statistics, and a (norm, dot)
// summary of every parameter's gradient. Agreement is required to 1e-8 relative L2 in f64. The NYUD case (64x96, as
// the issue asks) also runs in f32 against the f64 golden: outputs to 1e-4, gradients to PyTorch's own f32 spread.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "core/autograd.h"
#include "core/layout.h"
#include "core/ops.h"
#include "formula_weights.h"
#include "model/factory.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::test;

namespace {

// flat[::max(1, numel // target)] of a PyTorch-layout tensor.
Tensor sample(const Tensor& t, int64_t target) {
  std::vector<double> v = t.to_double_vector();
  int64_t stride = std::max<int64_t>(1, int64_t(v.size()) / target);
  std::vector<double> out;
  for (size_t i = 0; i < v.size(); i += size_t(stride)) out.push_back(v[i]);
  return Tensor::from_vector<double>({int64_t(out.size())}, out);
}

// One run of the model on the formula weights and input: the tensors of the fixture's keys, unsampled and in
// PyTorch layout ("eval.<task>", "train.<task>", "train.deep_supervision.<s>.<task>", "train.loss", "grad.input",
// "grad.<parameter>" for every parameter, "buffer.<buffer>" for every buffer after the train step).
struct Run {
  std::map<std::string, Tensor> tensors;
  std::vector<std::string> parameters;  // state_dict order
};

Run run_model(const nlohmann::json& config, const Shape& input_nchw, DType dtype) {
  std::shared_ptr<MultiTaskNetwork> net = build_model(config);
  MultiTaskNetwork& model = *net;
  const TaskSet& tasks = model.tasks();
  model.to(dtype);

  // Computed in f64 and rounded to the model's dtype on loading, as PyTorch's .to(torch.float32) does.
  SafetensorsContents weights;
  weights.source = "formula weights";
  uint64_t salt = 0;
  for (const auto& [name, t] : model.state_dict())
    weights.tensors.emplace_back(name, formula_entry(name, t.shape(), salt++));
  model.load_state_dict(weights, true);

  Tensor x = nchw_to_nhwc(formula_input(input_nchw)).to(dtype);
  x.set_requires_grad(true);

  Run run;
  model.eval();
  {
    NoGradGuard no_grad;
    ModelOutput out = model.forward(x);
    for (const auto& [task, y] : out.tasks) run.tensors["eval." + task] = nhwc_to_nchw(y);
  }

  model.train();
  ModelOutput out = model.forward(x);
  CHECK(out.tasks.size() == tasks.main.size());
  CHECK(out.deep_supervision.size() == (config.at("model") == "mtinet" ? 4u : 1u));
  Tensor loss;
  auto add = [&](const Tensor& y) {
    Tensor term = ops::mean(ops::mul(y, y));
    loss = loss.defined() ? ops::add(loss, term) : term;
  };
  for (const auto& [task, y] : out.tasks) {
    run.tensors["train." + task] = nhwc_to_nchw(y);
    add(y);
  }
  for (size_t s = 0; s < out.deep_supervision.size(); ++s) {
    CHECK(out.deep_supervision[s].size() == tasks.auxiliary.size());
    for (const auto& [task, y] : out.deep_supervision[s]) {
      run.tensors["train.deep_supervision." + std::to_string(s) + "." + task] = nhwc_to_nchw(y);
      add(y);
    }
  }
  run.tensors["train.loss"] = loss;
  loss.backward();
  run.tensors["grad.input"] = nhwc_to_nchw(x.grad());
  for (const StateEntry& e : model.state_entries()) {
    auto pytorch_layout = [&](const Tensor& t) { return e.layout == ExportLayout::ConvWeight ? ohwi_to_oihw(t) : t; };
    if (e.is_buffer) {
      run.tensors["buffer." + e.name] = e.tensor;
    } else {
      // A parameter no gradient reached has an exactly zero gradient (PyTorch reports zeros for it too).
      Tensor g = e.tensor.grad();
      run.tensors["grad." + e.name] = g.defined() ? pytorch_layout(g) : Tensor::zeros(e.tensor.shape(), dtype);
      run.parameters.push_back(e.name);
    }
  }
  return run;
}

double sampled_error(const SafetensorsContents& golden, const std::string& key, const Tensor& ours) {
  const int64_t target = int64_t(golden.at("sample_target").item());
  Tensor mine = golden.at(key).ndim() == 0 ? ours : sample(ours, target);
  REQUIRE(mine.shape() == golden.at(key).shape());
  return rel_l2(mine, golden.at(key));
}

void check_golden(const SafetensorsContents& golden, const std::string& key, const Tensor& ours_pytorch_layout) {
  CAPTURE(key);
  REQUIRE(golden.contains(key));
  double err = sampled_error(golden, key, ours_pytorch_layout);
  CAPTURE(err);
  CHECK(err <= 1e-8);
}

// grad_summary of tools/golden/mtinet_model.py: (||g||, sum_k g_k v_k / rms(v)), v_k = 2 formula_value(k, salt) - 1,
// in f64 over the flat PyTorch-layout gradient.
std::pair<double, double> grad_summary(const std::vector<double>& v, uint64_t salt) {
  double sq = 0, dot = 0, vsq = 0;
  for (size_t k = 0; k < v.size(); ++k) {
    double w = 2.0 * formula_value(uint64_t(k), salt) - 1.0;
    sq += v[k] * v[k];
    dot += v[k] * w;
    vsq += w * w;
  }
  return {std::sqrt(sq), dot / std::sqrt(vsq / double(v.size()))};
}

std::vector<std::string> split_names(const std::string& joined) {
  std::vector<std::string> out;
  size_t begin = 0;
  while (begin <= joined.size()) {
    size_t end = joined.find(',', begin);
    if (end == std::string::npos) end = joined.size();
    out.push_back(joined.substr(begin, end - begin));
    begin = end + 1;
  }
  return out;
}

// Every parameter's gradient summary of `run` against the f64 golden ones. The errors of norm and dot are both
// taken relative to the golden gradient's norm (for a random-direction error dg, |dot(dg, v)| / rms(v) ~ ||dg||,
// so both estimate the relative L2 error of the whole gradient, from two different projections). `allowed(i,
// relative)` is the bound for parameter i; for a gradient that is zero in exact arithmetic (golden norm below the
// fixture's gradsum.zero_norm: the bias of a conv followed by a training-mode BatchNorm, or an SE squeeze whose
// ReLU units are all inactive) the error is our absolute norm instead. Returns the errors, for reporting.
enum class Summary { Norm, Dot, ZeroNorm };
struct SummaryErrors {
  std::vector<double> norm, dot;
};
// The fixture's gradient summaries: per parameter (state_dict order) the golden (norm, dot), the dot's salt, and the
// norm under which a gradient counts as zero in exact arithmetic.
struct GoldenSummaries {
  std::vector<std::string> names;
  uint64_t salt = 0;
  double zero_norm = 0;
  std::vector<double> norms, dots;
};

GoldenSummaries golden_summaries(const SafetensorsContents& golden) {
  GoldenSummaries g;
  g.names = split_names(golden.metadata.at("gradsum.names"));
  g.salt = std::stoull(golden.metadata.at("gradsum.dot_salt"));
  g.zero_norm = std::stod(golden.metadata.at("gradsum.zero_norm"));
  g.norms = golden.at("gradsum.norm").to_double_vector();
  g.dots = golden.at("gradsum.dot").to_double_vector();
  REQUIRE(g.names.size() == g.norms.size());
  REQUIRE(g.names.size() == g.dots.size());
  return g;
}

template <class Allowed>
SummaryErrors check_gradient_summaries(const SafetensorsContents& golden, const Run& run, Allowed allowed) {
  const auto [names, salt, zero_norm, norms, dots] = golden_summaries(golden);
  // The fixture covers exactly our parameters.
  CHECK(names.size() == run.parameters.size());
  CHECK(std::set<std::string>(names.begin(), names.end()) ==
        std::set<std::string>(run.parameters.begin(), run.parameters.end()));
  SummaryErrors errors;
  size_t zero = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    CAPTURE(names[i]);
    auto it = run.tensors.find("grad." + names[i]);
    REQUIRE(it != run.tensors.end());
    auto [norm, dot] = grad_summary(it->second.to_double_vector(), salt);
    CAPTURE(norm);
    CAPTURE(norms[i]);
    if (norms[i] < zero_norm) {
      ++zero;
      CHECK(norm <= allowed(i, Summary::ZeroNorm));
      continue;
    }
    double norm_err = std::abs(norm - norms[i]) / norms[i], dot_err = std::abs(dot - dots[i]) / norms[i];
    CAPTURE(dot);
    CAPTURE(dots[i]);
    CHECK(norm_err <= allowed(i, Summary::Norm));
    CHECK(dot_err <= allowed(i, Summary::Dot));
    errors.norm.push_back(norm_err);
    errors.dot.push_back(dot_err);
  }
  // Sanity: only a few gradients may be zero, so the relative checks cover nearly all of them.
  CHECK(zero * 50 <= names.size());
  return errors;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

double max_of(const std::vector<double>& v) { return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()); }

// The f64 bound has power: in every parameter's gradient (except those zero in exact arithmetic), an error of a
// thousandth of the gradient's typical element, planted in one element, moves the gradient summary past `bound`.
// A real bug (a wrong index, a missing term) changes an element by far more than that.
void check_bound_catches_planted_errors(const SafetensorsContents& golden, const Run& run, double bound) {
  const auto [names, salt, zero_norm, norms, dots] = golden_summaries(golden);
  size_t tried = 0, caught = 0;
  std::string missed;
  for (size_t i = 0; i < names.size(); ++i) {
    if (norms[i] < zero_norm) continue;
    std::vector<double> g = run.tensors.at("grad." + names[i]).to_double_vector();
    // An element whose dot weight is not near zero, so the dot projection sees the change.
    size_t k = 0;
    while (k + 1 < g.size() && std::abs(2.0 * formula_value(uint64_t(k), salt) - 1.0) < 0.5) ++k;
    g[k] += 1e-3 * norms[i] / std::sqrt(double(g.size()));
    auto [norm, dot] = grad_summary(g, salt);
    double err = std::max(std::abs(norm - norms[i]), std::abs(dot - dots[i])) / norms[i];
    ++tried;
    if (err > bound) ++caught;
    else if (missed.empty()) missed = names[i];
  }
  CAPTURE(missed);
  CHECK(tried >= 10);
  CHECK(caught == tried);
}

void check_config(const std::string& fixture, const nlohmann::json& config, const Shape& input_nchw) {
  CAPTURE(fixture);
  SafetensorsContents golden = load_fixture(fixture + ".safetensors");
  Run run = run_model(config, input_nchw, DType::F64);

  size_t checked_grads = 0, checked_buffers = 0, golden_grads = 0, golden_buffers = 0, checked_outputs = 0;
  for (const auto& [key, t] : golden.tensors) {
    golden_grads += key.rfind("grad.", 0) == 0 && key != "grad.input";
    golden_buffers += key.rfind("buffer.", 0) == 0;
  }
  for (const auto& [key, t] : run.tensors) {
    bool is_output = key.rfind("eval.", 0) == 0 || key.rfind("train.", 0) == 0 || key == "grad.input";
    if (is_output) {
      check_golden(golden, key, t);  // every output, deep-supervision prediction, the loss and the input gradient
      ++checked_outputs;
    } else if (golden.contains(key)) {
      check_golden(golden, key, t);
      ++(key.rfind("grad.", 0) == 0 ? checked_grads : checked_buffers);
    }
  }
  CHECK(checked_grads == golden_grads);
  CHECK(checked_buffers == golden_buffers);
  CHECK(golden_grads >= 10);
  CHECK(checked_outputs >= 5);

  // f64 differs only by rounding order: 1e-8 for every parameter; 1e-12 absolute for the exactly-zero ones. The
  // inputs are large enough (64x96: 12 values per channel for train-mode BatchNorm at stride 32) that rounding
  // reaches ~1e-10 at worst; at 32x64 (4 values) it reached 2.4e-8 with some BLAS kernels, and 1e-8 failed by chance.
  SummaryErrors errors = check_gradient_summaries(
      golden, run, [](size_t, Summary what) { return what == Summary::ZeroNorm ? 1e-12 : 1e-8; });
  MESSAGE(fixture << ": f64 gradient summaries of " << run.parameters.size() << " parameters, worst norm error "
                  << max_of(errors.norm) << ", worst dot error " << max_of(errors.dot));
  check_bound_catches_planted_errors(golden, run, 1e-8);
}

// The same case in f32 against the f64 golden, with PyTorch's own f32-vs-f64 error ("spread32.*") as yardstick.
void check_config_f32(const std::string& fixture, const nlohmann::json& config, const Shape& input_nchw) {
  CAPTURE(fixture);
  SafetensorsContents golden = load_fixture(fixture + ".safetensors");
  Run run = run_model(config, input_nchw, DType::F32);

  // The rule, for every tensor and summary: error against the f64 golden <= max(3 * spread, 1e-4), spread being
  // PyTorch's own f32-vs-f64 error on the same quantity (the largest over its CPU back ends: oneDNN on NCHW, oneDNN
  // on channels_last, native im2col + GEMM).
  // Why not a fixed bound: in f32 the ReLUs whose inputs lie within rounding of zero flip, so gradients of this
  // ReLU network legitimately differ from the exact ones by up to ~0.15 relative L2 (PyTorch's worst here), and
  // train-mode BatchNorm over 12 values per channel at stride 32 makes even the train-mode forward ill-conditioned
  // (in f64, a 6e-8 relative perturbation of the input moves the train outputs by 2-3e-5, the eval ones by 1e-10):
  // PyTorch's own f32 train outputs miss the 1e-4 (1.2e-4 with oneDNN, 2.5e-4 native). Our f32 rounds
  // differently again (oneDNN nhwc convolutions one image at a time, or im2col + GEMM with MTINET_ONEDNN=0;
  // double-accumulated BatchNorm statistics), so its error is another draw of the same size, not the same number:
  // PyTorch's back ends differ by 5-20x on single quantities (changing the rounding of the stem convolution alone
  // moves some BatchNorm gradients of scale_0's refinement by 5x their two-back-end spread), and the spread takes
  // the largest of them. The ratio of two such draws on one quantity is itself random: among the ~1400
  // quantities here it passed 3 under some OpenBLAS kernels (6.8x on one gradient's dot summary with the SkylakeX
  // kernels), so each quantity may be off by 10x its spread, and the medians over all quantities, where the luck
  // of single draws averages out, must stay within 3x of PyTorch's. The 1e-4 floor keeps quantities whose PyTorch
  // error happened to be tiny from demanding luck. The eval-mode outputs meet the fixed 1e-4 (~1e-7).
  constexpr double kSingle = 10, kMedian = 3;
  auto allowed = [&](double spread) { return std::max(kSingle * spread, 1e-4); };
  std::vector<double> spreads;
  std::vector<double> output_errors, gradient_errors;
  for (const auto& [key, t] : run.tensors) {
    if (!golden.contains(key)) continue;
    CAPTURE(key);
    double err = sampled_error(golden, key, t), spread = golden.at("spread32." + key).item();
    CAPTURE(err);
    CAPTURE(spread);
    if (key.rfind("eval.", 0) == 0) CHECK(err <= 1e-4);
    CHECK(err <= allowed(spread));
    spreads.push_back(std::max(spread, 1e-4 / kSingle));
    bool is_output = key.rfind("eval.", 0) == 0 || key.rfind("train.", 0) == 0;
    (is_output ? output_errors : gradient_errors).push_back(err);
  }
  CHECK(output_errors.size() >= 5);
  CHECK(gradient_errors.size() >= 10);
  std::vector<double> all_errors = output_errors;
  all_errors.insert(all_errors.end(), gradient_errors.begin(), gradient_errors.end());
  CHECK(median(all_errors) <= kMedian * median(spreads));

  // Every parameter's gradient summary. Its spread: the larger of PyTorch's error on the summary itself and on the
  // whole gradient's relative L2 (a summary's error is one projection of the gradient's error and can be near zero
  // by chance in PyTorch's run but not in ours). Gradients zero in exact arithmetic: our norm <= max(3 * PyTorch's
  // f32 norm, 1e-7), 1e-7 being f32 rounding (~6e-8) of sums of O(1) terms.
  const std::vector<double> spread_norm = golden.at("spread32.gradsum.norm").to_double_vector();
  const std::vector<double> spread_dot = golden.at("spread32.gradsum.dot").to_double_vector();
  const std::vector<double> spread_l2 = golden.at("spread32.gradsum.l2").to_double_vector();
  std::vector<double> norm_spreads, dot_spreads;  // of the non-zero gradients, in the order of errors.norm / .dot
  auto spread_of = [](double s) { return std::max(s, 1e-4 / kSingle); };
  SummaryErrors errors = check_gradient_summaries(golden, run, [&](size_t i, Summary what) {
    switch (what) {
      case Summary::Norm:
        norm_spreads.push_back(spread_of(std::max(spread_norm[i], spread_l2[i])));
        return kSingle * norm_spreads.back();
      case Summary::Dot:
        dot_spreads.push_back(spread_of(std::max(spread_dot[i], spread_l2[i])));
        return kSingle * dot_spreads.back();
      case Summary::ZeroNorm: break;
    }
    return std::max(3 * spread_norm[i], 1e-7);
  });
  CHECK(median(errors.norm) <= kMedian * median(norm_spreads));
  CHECK(median(errors.dot) <= kMedian * median(dot_spreads));
  MESSAGE(fixture << " f32 relative errors vs f64 golden: outputs max " << max_of(output_errors) << " median "
                  << median(output_errors) << "; sampled gradients and BN statistics max " << max_of(gradient_errors)
                  << " median " << median(gradient_errors) << "; gradient norms max " << max_of(errors.norm)
                  << " median " << median(errors.norm) << "; gradient dots max " << max_of(errors.dot) << " median "
                  << median(errors.dot));
}

}  // namespace

// Models and input shapes as in tools/golden/mtinet_model.py FIXTURES.
TEST_CASE("MTI-Net NYUD matches the PyTorch golden model in f64 at 64x96") {
  check_config("mtinet_model_nyud", {{"model", "mtinet"}, {"tasks", "nyud"}}, {2, 3, 64, 96});
}

TEST_CASE("MTI-Net NYUD in f32 stays within PyTorch's own f32 spread of the f64 golden model at 64x96") {
  check_config_f32("mtinet_model_nyud", {{"model", "mtinet"}, {"tasks", "nyud"}}, {2, 3, 64, 96});
}

TEST_CASE("MTI-Net NYUD with auxiliary tasks matches the PyTorch golden model in f64 at 64x96") {
  check_config("mtinet_model_nyud_aux", {{"model", "mtinet"}, {"tasks", "nyud_aux"}}, {2, 3, 64, 96});
}

TEST_CASE("MTI-Net PASCAL matches the PyTorch golden model in f64 at 64x96") {
  check_config("mtinet_model_pascal", {{"model", "mtinet"}, {"tasks", "pascal"}}, {2, 3, 64, 96});
}

TEST_CASE("PAD-Net NYUD with auxiliary tasks matches the PyTorch golden model in f64 at 40x56") {
  check_config("padnet_model_nyud_aux", {{"model", "padnet"}, {"tasks", "nyud_aux"}}, {2, 3, 40, 56});
}
