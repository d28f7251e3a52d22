// One training step of MTI-Net (NYUD) against PyTorch (tools/golden/mtinet_onestep.py): from the closed-form weights
// and batch both sides evaluate identically, a training-mode forward, the MTI-Net loss (compute_task_losses with the
// task weights), backward and one SGD step (lr 0.1, momentum 0, no weight decay), which also moves every BatchNorm's
// running statistics. In f64 the loss, the update (updated - initial) of every parameter and BN buffer, and the
// updated values must match PyTorch to 1e-8 relative; in f32 the loss to 1e-5, and the weights and gradients must
// stay within PyTorch's own f32-vs-f64 spread (see the f32 part below for how that is measured and applied).
#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include "core/layout.h"
#include "core/ops.h"
#include "model/factory.h"
#include "train/optimizer.h"
#include "train/task_losses.h"
#include "formula_weights.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::test;

namespace {

const Shape kInputNchw = {2, 3, 64, 96};  // as tools/golden/mtinet_onestep.py INPUT_SHAPE
constexpr uint64_t kSemsegSalt = 424242, kDepthSalt = 31337;
constexpr int64_t kClasses = 40;
constexpr double kLr = 0.1;

// The batch of mtinet_onestep.py formula_batch, in our layouts: image {N,H,W,3}, semseg {N,H,W} i64 (classes >= 40
// become 255, ignored), depth {N,H,W,1} with 0 (invalid) where u < 1/8.
std::map<std::string, Tensor> formula_batch(DType dt) {
  const int64_t n = kInputNchw[0], h = kInputNchw[2], w = kInputNchw[3];
  std::vector<int64_t> semseg(size_t(n * h * w));
  std::vector<double> depth(semseg.size());
  for (size_t k = 0; k < semseg.size(); ++k) {
    int64_t c = int64_t(std::floor(formula_value(k, kSemsegSalt) * 44.0));
    semseg[k] = c >= kClasses ? 255 : c;
    double v = formula_value(k, kDepthSalt);
    depth[k] = v < 0.125 ? 0.0 : 0.5 + 4.0 * v;
  }
  return {{"image", nchw_to_nhwc(formula_input(kInputNchw)).to(dt)},
          {"semseg", Tensor::from_vector<int64_t>({n, h, w}, semseg)},
          {"depth", Tensor::from_vector<double>({n, h, w, 1}, depth).to(dt)}};
}

struct StepResult {
  double loss = 0;
  std::map<std::string, double> task_losses;
  std::vector<std::pair<std::string, Tensor>> state;  // after the step, PyTorch layout
  std::map<std::string, std::vector<double>> grads;   // by parameter name, PyTorch layout
};

// Formula weights in dtype dt, one forward + MTI-Net loss + backward + SGD step on the formula batch. The trainer
// asks the forward for the final predictions before their upsampling and takes their loss fused (finals).
StepResult one_step(DType dt, FinalPredictions finals = FinalPredictions::BeforeUpsampling) {
  std::shared_ptr<MultiTaskNetwork> model = build_model(nlohmann::json{{"model", "mtinet"}, {"tasks", "nyud"}});
  model->to(dt);
  SafetensorsContents weights;
  weights.source = "formula weights";
  uint64_t salt = 0;
  for (const auto& [name, t] : model->state_dict())
    weights.tensors.emplace_back(name, formula_entry(name, t.shape(), salt++));
  model->load_state_dict(weights, true);
  model->train();

  ParameterSet params(model->parameters());
  OptimizerConfig sgd;
  sgd.type = "sgd";
  sgd.lr = kLr;
  sgd.momentum = 0.0;
  sgd.weight_decay = 0.0;
  Optimizer optimizer(params, sgd);

  std::map<std::string, Tensor> batch = formula_batch(dt);
  ModelOutput out = model->forward(batch.at("image"), finals);
  const TaskSet& tasks = model->tasks();
  TaskLosses losses = compute_task_losses(tasks, out, batch);
  Tensor total;
  StepResult r;
  for (const auto& [task, l] : losses.per_task) {
    Tensor weighted = ops::scale(l, tasks.spec(task).loss_weight);
    total = total.defined() ? ops::add(total, weighted) : weighted;
    r.task_losses[task] = l.item();
  }
  params.zero_grad();
  total.backward();
  r.loss = total.item();
  for (const StateEntry& e : model->state_entries())
    if (!e.is_buffer) {
      Tensor g = e.tensor.grad();
      r.grads[e.name] = (e.layout == ExportLayout::ConvWeight ? ohwi_to_oihw(g) : g).to_double_vector();
    }
  optimizer.step(kLr);
  r.state = model->state_dict();
  return r;
}

double norm(const std::vector<double>& a) {
  double s = 0;
  for (double v : a) s += v * v;
  return std::sqrt(s);
}

double distance(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return std::sqrt(s);
}

std::vector<double> minus(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> d(a.size());
  for (size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
  return d;
}

// flat[::max(1, numel // target)], as mtinet_model.py's sample().
std::vector<double> sample(const std::vector<double>& v, int64_t target) {
  size_t stride = size_t(std::max<int64_t>(1, int64_t(v.size()) / target));
  std::vector<double> out;
  for (size_t i = 0; i < v.size(); i += stride) out.push_back(v[i]);
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

}  // namespace

TEST_CASE("one SGD step of MTI-Net NYUD matches PyTorch: f64 to 1e-8, f32 within PyTorch's own f32 spread") {
  SafetensorsContents golden = load_fixture("mtinet_onestep_nyud.safetensors");
  const int64_t target = int64_t(golden.at("sample_target").item());
  const std::vector<double> ref_delta_samples = golden.at("delta_samples").to_double_vector();
  const std::vector<double> ref_delta_norm = golden.at("delta_norm").to_double_vector();
  const std::vector<double> ref_initial_norm = golden.at("initial_norm").to_double_vector();
  const std::vector<double> pt_weight_spread = golden.at("f32_weight_spread").to_double_vector();
  const std::vector<double> pt_grad_spread = golden.at("f32_grad_spread").to_double_vector();
  const double pt_loss_spread = golden.at("f32_loss_spread").item();
  const double pt_global_weight_spread = golden.at("f32_global_weight_spread").item();
  const double pt_global_grad_spread = golden.at("f32_global_grad_spread").item();

  StepResult r64 = one_step(DType::F64);
  const double ref_loss = golden.at("loss").item();
  CHECK(std::abs(r64.loss - ref_loss) <= 1e-8 * std::abs(ref_loss));
  for (const auto& [task, l] : r64.task_losses) {
    CAPTURE(task);
    CHECK(std::abs(l - golden.at("loss." + task).item()) <= 1e-8 * std::abs(l));
  }

  // f64: the update of every floating entry, sampled and in norm, and the updated values.
  size_t index = 0, real_updates = 0, sample_offset = 0;  // entry index, position in delta_samples
  double worst_delta = 0, worst_norm = 0, worst_value = 0;
  for (size_t salt = 0; salt < r64.state.size(); ++salt) {
    const auto& [name, updated] = r64.state[salt];
    CAPTURE(name);
    if (updated.dtype() == DType::I64) {  // num_batches_tracked: one step taken
      CHECK(updated.item() == 1.0);
      continue;
    }
    REQUIRE(index < ref_delta_norm.size());
    std::vector<double> initial = formula_entry(name, updated.shape(), salt).to_double_vector();
    std::vector<double> now = updated.to_double_vector();
    std::vector<double> delta = minus(now, initial);
    const double ref_norm = ref_delta_norm[index];
    std::vector<double> ours_sample = sample(delta, target);
    REQUIRE(sample_offset + ours_sample.size() <= ref_delta_samples.size());
    std::vector<double> ref_sample(ref_delta_samples.begin() + std::ptrdiff_t(sample_offset),
                                   ref_delta_samples.begin() + std::ptrdiff_t(sample_offset + ours_sample.size()));
    sample_offset += ours_sample.size();
    CHECK(std::abs(norm(initial) - ref_initial_norm[index]) <= 1e-12 * ref_initial_norm[index]);
    // Updates at rounding level of the weights (a conv bias ahead of a training-mode BatchNorm has a zero gradient)
    // carry no relative accuracy: they need only be as negligible on our side.
    if (ref_norm <= 1e-9 * ref_initial_norm[index]) {
      CHECK(norm(delta) <= 1e-9 * ref_initial_norm[index]);
    } else {
      ++real_updates;
      double e_sample = distance(ours_sample, ref_sample) / std::max(norm(ref_sample), 1e-300);
      double e_norm = std::abs(norm(delta) - ref_norm) / ref_norm;
      // The updated values themselves: their sampled deviation relative to the sampled updated values.
      std::vector<double> ref_now = sample(initial, target);
      for (size_t i = 0; i < ref_now.size(); ++i) ref_now[i] += ref_sample[i];
      double e_value = distance(sample(now, target), ref_now) / std::max(norm(ref_now), 1e-300);
      CAPTURE(e_sample);
      CAPTURE(e_norm);
      CHECK(e_sample <= 1e-8);
      CHECK(e_norm <= 1e-8);
      CHECK(e_value <= 1e-8);
      worst_delta = std::max(worst_delta, e_sample);
      worst_norm = std::max(worst_norm, e_norm);
      worst_value = std::max(worst_value, e_value);
    }
    ++index;
  }
  CHECK(index == ref_delta_norm.size());
  CHECK(sample_offset == ref_delta_samples.size());
  CHECK(real_updates > 1000);
  MESSAGE("f64: loss rel err " << std::abs(r64.loss - ref_loss) / std::abs(ref_loss) << "; worst over "
          << real_updates << " updated entries: sampled update " << worst_delta << ", update norm " << worst_norm
          << ", updated values " << worst_value);

  // f32: loss to 1e-5. Weights and gradients against our own f64 step (equal to PyTorch's to 1e-8, checked above).
  // The step is ill-conditioned (training-mode BN over a dozen pixels per channel at the coarse scales, ReLU and L1
  // kinks): PyTorch's own f32 gradients differ from f64 by 0.3% to 2% in the median over tensors depending on the
  // convolution backend or a one-ulp change of the input, and one such run exceeds the per-tensor maximum of the
  // others by up to 8x. So the fixture holds that maximum (envelope) over five PyTorch f32 runs, and we require:
  // per tensor within 10x the envelope (plus a floor), and the median over tensors and the spread over all tensors
  // at once within 1.5x the envelope's (a PyTorch run left out stays within 1.16x and 1x of the rest).
  StepResult r32 = one_step(DType::F32);
  const double loss_err = std::abs(r32.loss - ref_loss) / std::abs(ref_loss);
  CHECK(loss_err <= 1e-5);
  index = 0;
  std::vector<double> ours_w, pt_w, ours_g, pt_g;
  double w_num = 0, w_den = 0, g_num = 0, g_den = 0;  // over all entries at once
  for (size_t salt = 0; salt < r32.state.size(); ++salt) {
    const auto& [name, updated] = r32.state[salt];
    CAPTURE(name);
    if (updated.dtype() == DType::I64) {
      CHECK(updated.item() == 1.0);
      continue;
    }
    REQUIRE(r64.state[salt].first == name);
    const std::vector<double> ref = r64.state[salt].second.to_double_vector();
    const double w_dist = distance(updated.to_double_vector(), ref), w_norm = norm(ref);
    w_num += w_dist * w_dist;
    w_den += w_norm * w_norm;
    const double w_spread = w_dist / std::max(w_norm, 1e-300);
    CAPTURE(w_spread);
    CAPTURE(pt_weight_spread[index]);
    CHECK(w_spread <= 10.0 * pt_weight_spread[index] + 1e-6);
    const bool real_update = ref_delta_norm[index] > 1e-9 * ref_initial_norm[index];
    if (real_update) {
      ours_w.push_back(w_spread);
      pt_w.push_back(pt_weight_spread[index]);
    }
    auto g = r32.grads.find(name);
    if (g != r32.grads.end() && real_update) {
      const std::vector<double>& g64 = r64.grads.at(name);
      const double g_dist = distance(g->second, g64), g_norm = norm(g64);
      g_num += g_dist * g_dist;
      g_den += g_norm * g_norm;
      const double g_spread = g_dist / std::max(g_norm, 1e-300);
      CAPTURE(g_spread);
      CAPTURE(pt_grad_spread[index]);
      CHECK(g_spread <= 10.0 * pt_grad_spread[index] + 1e-4);
      ours_g.push_back(g_spread);
      pt_g.push_back(pt_grad_spread[index]);
    }
    ++index;
  }
  REQUIRE(!ours_w.empty());
  REQUIRE(!ours_g.empty());
  CHECK(median(ours_w) <= 1.5 * median(pt_w));
  CHECK(median(ours_g) <= 1.5 * median(pt_g));
  const double global_w = std::sqrt(w_num / w_den), global_g = std::sqrt(g_num / g_den);
  CHECK(global_w <= 1.5 * pt_global_weight_spread);
  CHECK(global_g <= 1.5 * pt_global_grad_spread);
  MESSAGE("f32 (PyTorch's envelope in brackets): loss rel err " << loss_err << " (" << pt_loss_spread
          << "); weights: all at once " << global_w << " (" << pt_global_weight_spread << "), median "
          << median(ours_w) << " (" << median(pt_w) << "), max " << *std::max_element(ours_w.begin(), ours_w.end()) << " ("
          << *std::max_element(pt_w.begin(), pt_w.end()) << "); gradients: all at once " << global_g << " ("
          << pt_global_grad_spread << "), median " << median(ours_g) << " (" << median(pt_g) << "), max "
          << *std::max_element(ours_g.begin(), ours_g.end()) << " (" << *std::max_element(pt_g.begin(), pt_g.end())
          << ")");
}

TEST_CASE("one step with the final predictions at input size gives the fused training step's bits") {
  // The trainer's forward leaves the final predictions before their upsampling and fuses it into the loss; the
  // full-resolution path (as evaluation sees the outputs) must give the same loss, gradients and update, bit for bit
  // on the CPU, so the PyTorch comparison above covers both.
  for (DType dt : {DType::F64, DType::F32}) {
    CAPTURE(dtype_name(dt));
    StepResult fused = one_step(dt), full = one_step(dt, FinalPredictions::AtInputSize);
    CHECK(fused.loss == full.loss);
    CHECK(fused.task_losses == full.task_losses);
    CHECK(fused.grads == full.grads);
    REQUIRE(fused.state.size() == full.state.size());
    for (size_t i = 0; i < fused.state.size(); ++i) {
      CAPTURE(fused.state[i].first);
      CHECK(fused.state[i].second.to_double_vector() == full.state[i].second.to_double_vector());
    }
  }
}
