// Loss balancing: fixed weights, uncertainty weighting, DWA and GradNorm against hand-computed values, their
// checkpoint state, and the config parser.
#include <cmath>

#include <nlohmann/json.hpp>

#include "core/ops.h"
#include "core/parameter_set.h"
#include "test_util.h"
#include "train/loss_balancing.h"
#include "train/optimizer.h"

using namespace mtinet;
using namespace mtinet::test;
using nlohmann::json;

namespace {

Tensor scalar(double v, bool requires_grad = false) {
  Tensor t = Tensor::from_vector<double>({}, {v});
  if (requires_grad) t.set_requires_grad(true);
  return t;
}

std::map<std::string, Tensor> losses_ab(double a, double b) { return {{"a", scalar(a)}, {"b", scalar(b)}}; }

// Runs one DWA step with the given losses and returns the weights it used.
std::map<std::string, double> dwa_step(LossBalancer& dwa, double a, double b, int64_t epoch) {
  dwa.combine(losses_ab(a, b), 0, epoch);
  return dwa.weights();
}

}  // namespace

TEST_CASE("fixed weights: total and its gradient w.r.t. each task loss") {
  FixedWeightsBalancer fixed({"semseg", "depth", "normals"}, {1.0, 2.0, 10.0});
  Tensor semseg = scalar(0.5, true), depth = scalar(0.25, true), normals = scalar(0.125, true);
  Tensor total = fixed.combine({{"semseg", semseg}, {"depth", depth}, {"normals", normals}}, 0, 0);
  CHECK(total.ndim() == 0);
  CHECK(total.item() == doctest::Approx(0.5 + 0.5 + 1.25).epsilon(1e-15));
  total.backward();
  CHECK(semseg.grad().item() == 1.0);
  CHECK(depth.grad().item() == 2.0);
  CHECK(normals.grad().item() == 10.0);
  CHECK(fixed.weights() == std::map<std::string, double>{{"semseg", 1.0}, {"depth", 2.0}, {"normals", 10.0}});
  CHECK(fixed.parameters().empty());
  CHECK(fixed.state().empty());
}

TEST_CASE("every balancer checks that the losses name exactly its tasks and are 0-d") {
  FixedWeightsBalancer fixed({"a", "b"}, {1.0, 1.0});
  CHECK_THROWS_WITH_AS(fixed.combine({{"a", scalar(1)}}, 0, 0), doctest::Contains("no loss for task 'b'"), Error);
  CHECK_THROWS_WITH_AS(fixed.combine({{"a", scalar(1)}, {"b", scalar(1)}, {"edge", scalar(1)}}, 0, 0),
                       doctest::Contains("'edge', which is not one of the tasks (a, b)"), Error);
  Tensor vector_loss = Tensor::from_vector<double>({1}, {1.0});
  CHECK_THROWS_WITH_AS(fixed.combine({{"a", scalar(1)}, {"b", vector_loss}}, 0, 0),
                       doctest::Contains("the loss of task 'b' must be a 0-d"), Error);
  Tensor f32_loss = Tensor::from_vector<float>({}, {1.0f});
  CHECK_THROWS_WITH_AS(fixed.combine({{"a", scalar(1)}, {"b", f32_loss}}, 0, 0),
                       doctest::Contains("differs in dtype or device"), Error);
  CHECK_THROWS_WITH_AS(FixedWeightsBalancer({"a", "a"}, {1.0, 1.0}), doctest::Contains("'a' is listed twice"), Error);
}

TEST_CASE("uncertainty weighting: total exp(-s) L + s and its gradients w.r.t. L and s") {
  UncertaintyBalancer unc({"a", "b"}, DType::F64);
  std::vector<Tensor> s = unc.parameters();
  REQUIRE(s.size() == 2);
  CHECK(s[0].name() == "log_var.a");
  CHECK(s[0].ndim() == 0);
  CHECK(s[0].item() == 0.0);
  CHECK(unc.weights() == std::map<std::string, double>{{"a", 1.0}, {"b", 1.0}});
  s[0].copy_from(scalar(0.5));
  s[1].copy_from(scalar(-1.0));
  Tensor la = scalar(2.0, true), lb = scalar(3.0, true);
  Tensor total = unc.combine({{"a", la}, {"b", lb}}, 0, 0);
  // e^-0.5 * 2 + 0.5 + e^1 * 3 - 1
  CHECK(total.item() == doctest::Approx(8.867906804802402).epsilon(1e-14));
  CHECK(unc.weights().at("a") == doctest::Approx(0.6065306597126334).epsilon(1e-15));  // e^-0.5
  CHECK(unc.weights().at("b") == doctest::Approx(2.718281828459045).epsilon(1e-15));   // e^1
  total.backward();
  CHECK(la.grad().item() == doctest::Approx(0.6065306597126334).epsilon(1e-15));    // e^-s
  CHECK(lb.grad().item() == doctest::Approx(2.718281828459045).epsilon(1e-15));
  CHECK(s[0].grad().item() == doctest::Approx(-0.21306131942526685).epsilon(1e-14));  // 1 - e^-0.5 * 2
  CHECK(s[1].grad().item() == doctest::Approx(-7.154845485377136).epsilon(1e-14));    // 1 - e^1 * 3
}

TEST_CASE("uncertainty weighting: finite-difference gradient check over losses and log-variances") {
  UncertaintyBalancer unc({"a", "b"}, DType::F64);
  std::vector<Tensor> s = unc.parameters();
  s[0].copy_from(scalar(0.3));
  s[1].copy_from(scalar(-0.7));
  Tensor la = scalar(1.7, true), lb = scalar(0.4, true);
  gradcheck([&](const std::vector<Tensor>& in) { return unc.combine({{"a", in[0]}, {"b", in[1]}}, 0, 0); },
            {la, lb, s[0], s[1]});
}

TEST_CASE("uncertainty weighting: the log-variances train inside the trainer's ParameterSet") {
  UncertaintyBalancer unc({"a", "b"}, DType::F64);
  ParameterSet params(unc.parameters());
  unc.parameters()[1].copy_from(scalar(1.0));
  Tensor total = unc.combine(losses_ab(4.0, 2.0), 0, 0);
  total.backward();
  // d/ds = 1 - e^-s L: {1 - 4, 1 - 2/e}
  check_close(params.flat_grads(), Tensor::from_vector<double>({2}, {-3.0, 1.0 - 2.0 / 2.718281828459045}), 1e-15,
              1e-14, "flat gradients of the log-variances");
  // The state round trip restores the values in place, so the ParameterSet keeps seeing them.
  NamedTensors saved = unc.state();
  REQUIRE(saved.size() == 2);
  CHECK(saved[1].first == "balancer.uncertainty.log_var.b");
  CHECK(saved[1].second.item() == 1.0);
  params.flat_params().zero_();
  unc.load_state(saved);
  CHECK(params.flat_params().to_double_vector() == std::vector<double>{0.0, 1.0});
  CHECK(unc.weights().at("b") == doctest::Approx(1.0 / 2.718281828459045).epsilon(1e-15));
  CHECK_THROWS_WITH_AS(unc.load_state({}), doctest::Contains("'balancer.uncertainty.log_var.a'"), Error);
}

// Issue 14: the trainer handed its optimiser copies of the log-variances (Tensor::to), so on a GPU combine() threw
// and the optimiser stepped copies nobody read. Moved with to() and packed with a network weight as the trainer now
// does, the balancer's own tensors must be the ones packed, and three SGD steps must give what the gradients
// computed by hand give. (tests/test_cuda_loss_balancing.cpp makes the same moves to a GPU.)
TEST_CASE("uncertainty weighting: moved and packed, the optimiser steps the balancer's own log-variances") {
  UncertaintyBalancer unc({"a", "b"}, DType::F64);
  std::vector<Tensor> handles = unc.parameters();
  Tensor w = scalar(0.5);  // stands for the network's weights
  unc.to(Device::CPU);
  std::vector<Tensor> packed{w};
  for (const Tensor& s : unc.parameters()) packed.push_back(s);
  ParameterSet params(packed);
  params.to(Device::CPU);
  for (size_t i = 0; i < handles.size(); ++i) {
    CAPTURE(i);
    CHECK(unc.parameters()[i].same(handles[i]));
    CHECK(params.params()[1 + i].same(handles[i]));
    CHECK(handles[i].impl().storage == params.flat_params().impl().storage);
  }
  OptimizerConfig cfg;
  cfg.type = "sgd";
  cfg.momentum = 0;
  cfg.weight_decay = 0;
  Optimizer opt(params, cfg);
  const double lr = 0.1;
  double wv = 0.5, sa = 0, sb = 0;  // the same three steps by hand
  for (int step = 0; step < 3; ++step) {
    CAPTURE(step);
    // L_a = 8 w depends on the network's weight, L_b = 0.5 does not.
    Tensor total = unc.combine({{"a", ops::scale(w, 8.0)}, {"b", scalar(0.5)}}, step, 0);
    CHECK(unc.weights().at("a") == doctest::Approx(std::exp(-sa)).epsilon(1e-15));
    CHECK(unc.weights().at("b") == doctest::Approx(std::exp(-sb)).epsilon(1e-15));
    params.zero_grad();
    total.backward();
    // total = e^-sa 8w + sa + e^-sb 0.5 + sb
    double gw = 8 * std::exp(-sa), ga = 1 - std::exp(-sa) * 8 * wv, gb = 1 - 0.5 * std::exp(-sb);
    check_close(params.flat_grads(), Tensor::from_vector<double>({3}, {gw, ga, gb}), 1e-15, 1e-13, "gradients");
    CHECK(handles[0].grad().same(params.params()[1].grad()));
    opt.step(lr);
    wv -= lr * gw;
    sa -= lr * ga;
    sb -= lr * gb;
  }
  CHECK(std::abs(sa) > 0.1);  // the steps moved them: sa ends near -0.78, sb near -0.14
  CHECK(std::abs(sb) > 0.1);
  check_close(params.flat_params(), Tensor::from_vector<double>({3}, {wv, sa, sb}), 1e-15, 1e-13, "parameters");
  CHECK(handles[0].item() == doctest::Approx(sa).epsilon(1e-13));
  CHECK(handles[1].item() == doctest::Approx(sb).epsilon(1e-13));
  // What a checkpoint saves is what the optimiser produced.
  CHECK(unc.state()[1].second.item() == handles[1].item());
}

TEST_CASE("dwa: weights 1 for two epochs, then K softmax(r / T) of the epoch-mean loss ratios") {
  DwaBalancer dwa({"a", "b"}, 2.0);
  std::map<std::string, double> ones{{"a", 1.0}, {"b", 1.0}};
  // Epoch 0: means a 2, b 1.
  CHECK(dwa_step(dwa, 3.0, 1.0, 0) == ones);
  CHECK(dwa_step(dwa, 1.0, 1.0, 0) == ones);
  // Epoch 1: means a 1, b 1.5.
  CHECK(dwa_step(dwa, 0.5, 1.0, 1) == ones);
  CHECK(dwa_step(dwa, 1.5, 2.0, 1) == ones);
  // Epoch 2: r = {1/2, 1.5/1}; w_a = 2 e^(0.25) / (e^(0.25) + e^(0.75)) = 2 / (1 + e^0.5).
  Tensor la = scalar(2.0, true), lb = scalar(4.0, true);
  Tensor total = dwa.combine({{"a", la}, {"b", lb}}, 0, 2);
  REQUIRE(dwa.history().size() == 2);
  CHECK(dwa.history()[0] == std::vector<double>{1.0, 1.5});
  CHECK(dwa.history()[1] == std::vector<double>{2.0, 1.0});
  CHECK(dwa.weights().at("a") == doctest::Approx(0.7550813375962908).epsilon(1e-14));
  CHECK(dwa.weights().at("b") == doctest::Approx(1.2449186624037092).epsilon(1e-14));
  CHECK(total.item() == doctest::Approx(6.489837324807418).epsilon(1e-14));  // 2 w_a + 4 w_b
  total.backward();
  CHECK(la.grad().item() == doctest::Approx(0.7550813375962908).epsilon(1e-14));
  CHECK(lb.grad().item() == doctest::Approx(1.2449186624037092).epsilon(1e-14));
  // The weights hold for the whole epoch, whatever its losses.
  CHECK(dwa_step(dwa, 100.0, 0.01, 2).at("a") == doctest::Approx(0.7550813375962908).epsilon(1e-14));
  // Epoch 3: means of epoch 2 are a 51, b 2.005; of epoch 1 a 1, b 1.5: r = {51, 2.005/1.5}.
  std::map<std::string, double> w3 = dwa_step(dwa, 1.0, 1.0, 3);
  CHECK(w3.at("a") == doctest::Approx(2.0 / (1.0 + std::exp((2.005 / 1.5 - 51.0) / 2.0))).epsilon(1e-14));
  CHECK(w3.at("a") + w3.at("b") == doctest::Approx(2.0).epsilon(1e-15));
  CHECK_THROWS_WITH_AS(dwa.combine(losses_ab(1, 1), 0, 2), doctest::Contains("epoch went back from 3 to 2"), Error);
}

TEST_CASE("dwa: the temperature flattens or sharpens the weights") {
  // Epoch means a {2, 2}, b {1, 2}: r = {1, 2}, w_a = 2 / (1 + e^((2 - 1) / T)).
  for (double T : {0.5, 2.0, 10.0}) {
    DwaBalancer dwa({"a", "b"}, T);
    dwa_step(dwa, 2.0, 1.0, 0);
    dwa_step(dwa, 2.0, 2.0, 1);
    CHECK(dwa_step(dwa, 1.0, 1.0, 2).at("a") == doctest::Approx(2.0 / (1.0 + std::exp(1.0 / T))).epsilon(1e-14));
  }
  // T = 2: 2 / (1 + e^0.5) = 0.7550813375962908, as hand-computed above.
  DwaBalancer dwa({"a", "b"}, 2.0);
  dwa_step(dwa, 2.0, 1.0, 0);
  dwa_step(dwa, 2.0, 2.0, 1);
  CHECK(dwa_step(dwa, 1.0, 1.0, 2).at("a") == doctest::Approx(0.7550813375962908).epsilon(1e-14));
}

TEST_CASE("dwa: a checkpoint taken mid-epoch resumes to the same weights") {
  DwaBalancer original({"a", "b"}, 2.0);
  dwa_step(original, 3.0, 1.0, 0);
  dwa_step(original, 1.0, 1.0, 0);
  dwa_step(original, 0.5, 1.0, 1);
  NamedTensors saved = original.state();
  DwaBalancer resumed({"a", "b"}, 2.0);
  resumed.load_state(saved);
  for (DwaBalancer* dwa : {&original, &resumed}) {
    dwa_step(*dwa, 1.5, 2.0, 1);
    CHECK(dwa_step(*dwa, 2.0, 4.0, 2).at("a") == doctest::Approx(0.7550813375962908).epsilon(1e-14));
    CHECK(dwa->history()[0] == std::vector<double>{1.0, 1.5});
  }
  CHECK_THROWS_WITH_AS(resumed.load_state({}), doctest::Contains("'balancer.dwa."), Error);
}

TEST_CASE("dwa: a task whose mean loss was 0 cannot give a ratio") {
  DwaBalancer dwa({"a", "b"}, 2.0);
  dwa_step(dwa, 0.0, 1.0, 0);
  dwa_step(dwa, 1.0, 1.0, 1);
  CHECK_THROWS_WITH_AS(dwa_step(dwa, 1.0, 1.0, 2), doctest::Contains("task 'a'"), Error);
}

namespace {

// A tiny two-task model around one shared layer: h = W * x with x = {1, 1}; task 1: L1 = sum(h^2), so
// dL1/dW = 2W; task 2: L2 = sum(h * c) with c = {3, 4}, so dL2/dW = c and ||dL2/dW|| = 5 whatever W.
struct TwoTaskModel {
  Tensor W = Tensor::from_vector<double>({2}, {3.0, 4.0}).set_requires_grad(true);
  Tensor x = Tensor::from_vector<double>({2}, {1.0, 1.0});
  Tensor c = Tensor::from_vector<double>({2}, {3.0, 4.0});
  std::map<std::string, Tensor> losses() const {
    Tensor h = ops::mul(W, x);
    return {{"t1", ops::sum(ops::mul(h, h))}, {"t2", ops::sum(ops::mul(h, c))}};
  }
};

}  // namespace

TEST_CASE("gradnorm: two steps of a two-task model against hand-computed norms, targets and updates") {
  TwoTaskModel model;
  GradNormBalancer gn({"t1", "t2"}, /*alpha=*/1.5, /*lr=*/0.01, GradNormBalancer::Optimiser::Sgd);
  gn.set_shared_weight(model.W);

  // Step 1, W = {3, 4}: L1 = 25, n1 = ||2W|| = 10; L2 = 25, n2 = 5. With w = 1: G = {10, 5}, G_avg = 7.5; the
  // first losses are the initial ones, so r = 1 and both targets are 7.5; L_grad = 2.5 + 2.5.
  // dL_grad/dw = {sign(10 - 7.5) 10, sign(5 - 7.5) 5} = {10, -5}; w = {1 - 0.1, 1 + 0.05} = {0.9, 1.05}, sum 1.95,
  // renormalised to sum 2: {0.9, 1.05} * 2 / 1.95 = {12/13, 14/13}.
  Tensor total = gn.combine(model.losses(), 0, 0);
  const GradNormBalancer::Step& s1 = gn.last_step();
  CHECK(s1.grad_norms == std::vector<double>{10.0, 5.0});
  CHECK(s1.G == std::vector<double>{10.0, 5.0});
  CHECK(s1.targets == std::vector<double>{7.5, 7.5});
  CHECK(s1.gradnorm_loss == 5.0);
  CHECK(s1.weight_grads == std::vector<double>{10.0, -5.0});
  CHECK(gn.next_weights()[0] == doctest::Approx(12.0 / 13.0).epsilon(1e-15));
  CHECK(gn.next_weights()[1] == doctest::Approx(14.0 / 13.0).epsilon(1e-15));
  // The step's total uses the weights it started with, 1 and 1.
  CHECK(gn.weights() == std::map<std::string, double>{{"t1", 1.0}, {"t2", 1.0}});
  CHECK(total.item() == 50.0);
  // Measuring the norms left W's gradient alone; the total backpropagates with the weights as constants:
  // dTotal/dW = 1 * 2W + 1 * c = {9, 12}.
  CHECK_FALSE(model.W.grad().defined());
  total.backward();
  CHECK(model.W.grad().to_double_vector() == std::vector<double>{9.0, 12.0});

  // Step 2, W = {1.2, 1.6}: L1 = 4, n1 = 4; L2 = 10, n2 = 5. G = {12/13 * 4, 14/13 * 5} = {48/13, 70/13},
  // G_avg = 59/13. Training rates L/L(0) = {0.16, 0.4}, mean 0.28: r = {4/7, 10/7}.
  // targets = 59/13 * r^1.5 = {1.96043111275116, 7.74928439019003}; L_grad = (48/13 - t1) + (t2 - 70/13).
  // dL_grad/dw = {+4, -5}: w = {12/13 - 0.04, 14/13 + 0.05}, sum 2.01, renormalised: * 2 / 2.01.
  model.W.copy_from(Tensor::from_vector<double>({2}, {1.2, 1.6}));
  model.W.grad().zero_();
  total = gn.combine(model.losses(), 1, 0);
  const GradNormBalancer::Step& s2 = gn.last_step();
  CHECK(s2.grad_norms[0] == doctest::Approx(4.0).epsilon(1e-15));
  CHECK(s2.grad_norms[1] == 5.0);
  CHECK(s2.G[0] == doctest::Approx(48.0 / 13.0).epsilon(1e-15));
  CHECK(s2.G[1] == doctest::Approx(70.0 / 13.0).epsilon(1e-15));
  CHECK(s2.targets[0] == doctest::Approx(1.9604311127511564).epsilon(1e-14));
  CHECK(s2.targets[1] == doctest::Approx(7.749284390190025).epsilon(1e-14));
  CHECK(s2.gradnorm_loss == doctest::Approx(4.096545585131175).epsilon(1e-14));
  CHECK(s2.weight_grads[0] == doctest::Approx(4.0).epsilon(1e-15));
  CHECK(s2.weight_grads[1] == -5.0);
  CHECK(gn.next_weights()[0] == doctest::Approx(0.8786835055491773).epsilon(1e-14));
  CHECK(gn.next_weights()[1] == doctest::Approx(1.121316494450823).epsilon(1e-14));
  CHECK(gn.weights().at("t1") == doctest::Approx(12.0 / 13.0).epsilon(1e-15));
  CHECK(total.item() == doctest::Approx(188.0 / 13.0).epsilon(1e-14));  // 12/13 * 4 + 14/13 * 10
  total.backward();
  // 12/13 * 2W + 14/13 * c = {(28.8 + 42) / 13, (38.4 + 56) / 13}
  check_close(model.W.grad(), Tensor::from_vector<double>({2}, {70.8 / 13.0, 94.4 / 13.0}), 1e-14, 1e-14,
              "dTotal/dW at step 2");
}

TEST_CASE("gradnorm: Adam's first step moves each weight by lr against its gradient's sign") {
  TwoTaskModel model;
  GradNormBalancer gn({"t1", "t2"}, 1.5, 0.025);
  gn.set_shared_weight(model.W);
  gn.combine(model.losses(), 0, 0);
  // gradients {10, -5}: bias-corrected m / sqrt(v) = sign(g) (up to eps), so w = {0.975, 1.025}, already summing to 2.
  CHECK(gn.next_weights()[0] == doctest::Approx(0.975).epsilon(1e-10));
  CHECK(gn.next_weights()[1] == doctest::Approx(1.025).epsilon(1e-10));
}

TEST_CASE("gradnorm: weights are clipped at 0 before renormalising") {
  TwoTaskModel model;
  GradNormBalancer gn({"t1", "t2"}, 1.5, 1.0, GradNormBalancer::Optimiser::Sgd);
  gn.set_shared_weight(model.W);
  gn.combine(model.losses(), 0, 0);
  // w = {1 - 10, 1 + 5} -> {0, 6} -> renormalised to {0, 2}.
  CHECK(gn.next_weights() == std::vector<double>{0.0, 2.0});
}

TEST_CASE("gradnorm: a checkpoint resumes to the same weights") {
  TwoTaskModel model;
  GradNormBalancer original({"t1", "t2"}, 1.5, 0.025);
  original.set_shared_weight(model.W);
  NamedTensors before_any = original.state();
  original.combine(model.losses(), 0, 0);
  GradNormBalancer resumed({"t1", "t2"}, 1.5, 0.025);
  resumed.set_shared_weight(model.W);
  resumed.load_state(original.state());
  CHECK(resumed.weights().at("t1") == doctest::Approx(0.975).epsilon(1e-10));
  model.W.copy_from(Tensor::from_vector<double>({2}, {1.2, 1.6}));
  original.combine(model.losses(), 1, 0);
  resumed.combine(model.losses(), 1, 0);
  CHECK(resumed.next_weights() == original.next_weights());
  CHECK(resumed.last_step().targets == original.last_step().targets);
  // A state saved before the first step leaves the initial losses to be taken at the next step.
  GradNormBalancer fresh({"t1", "t2"}, 1.5, 0.025);
  fresh.set_shared_weight(model.W);
  fresh.load_state(before_any);
  fresh.combine(model.losses(), 0, 0);
  CHECK(fresh.last_step().targets[0] == fresh.last_step().targets[1]);  // r = 1 for both
}

TEST_CASE("gradnorm: needs the shared weight, and a task loss that reaches it") {
  TwoTaskModel model;
  GradNormBalancer gn({"t1", "t2"}, 1.5, 0.025);
  CHECK_THROWS_WITH_AS(gn.combine(model.losses(), 0, 0), doctest::Contains("set_shared_weight"), Error);
  gn.set_shared_weight(model.W);
  Tensor other = scalar(2.0, true);
  std::map<std::string, Tensor> losses = model.losses();
  losses["t2"] = ops::mul(other, other);
  CHECK_THROWS_WITH_AS(gn.combine(losses, 0, 0), doctest::Contains("loss of 't2'"), Error);
  losses["t2"] = scalar(1.0);
  CHECK_THROWS_WITH_AS(gn.combine(losses, 0, 0), doctest::Contains("loss of 't2' does not require grad"), Error);
}

TEST_CASE("make_balancer builds each method from its config") {
  std::vector<std::string> tasks{"semseg", "depth", "normals", "edge"};
  auto fixed = make_balancer(
      json{{"method", "fixed"}, {"weights", {{"semseg", 1}, {"depth", 1}, {"normals", 10}, {"edge", 50}}}}, tasks);
  CHECK(std::string(fixed->method()) == "fixed");
  CHECK(fixed->weights() ==
        std::map<std::string, double>{{"semseg", 1.0}, {"depth", 1.0}, {"normals", 10.0}, {"edge", 50.0}});
  CHECK(make_balancer(json{{"method", "fixed"}}, tasks)->weights().at("edge") == 1.0);

  auto unc = make_balancer(json{{"method", "uncertainty"}}, tasks, DType::F64);
  CHECK(std::string(unc->method()) == "uncertainty");
  REQUIRE(unc->parameters().size() == 4);
  CHECK(unc->parameters()[3].dtype() == DType::F64);

  // T = 0.5 against the hand-computed T-dependence: epochs with means a {2, 2}, b {1, 2} give w_a = 2 / (1 + e^2).
  auto dwa = make_balancer(json{{"method", "dwa"}, {"temperature", 0.5}}, {"a", "b"});
  CHECK(std::string(dwa->method()) == "dwa");
  dwa_step(*dwa, 2.0, 1.0, 0);
  dwa_step(*dwa, 2.0, 2.0, 1);
  CHECK(dwa_step(*dwa, 1.0, 1.0, 2).at("a") == doctest::Approx(0.2384058440442351).epsilon(1e-14));

  // alpha and lr reach GradNorm: SGD with lr 0.01 reproduces the hand-computed first step.
  TwoTaskModel model;
  auto gn = make_balancer(json{{"method", "gradnorm"}, {"alpha", 1.5}, {"lr", 0.01}, {"optimizer", "sgd"}},
                          {"t1", "t2"});
  CHECK(std::string(gn->method()) == "gradnorm");
  gn->set_shared_weight(model.W);
  gn->combine(model.losses(), 0, 0);
  gn->combine(model.losses(), 1, 0);
  CHECK(gn->weights().at("t1") == doctest::Approx(12.0 / 13.0).epsilon(1e-15));
}

TEST_CASE("make_balancer rejects bad configs, naming what is wrong") {
  std::vector<std::string> tasks{"semseg", "depth"};
  auto fails_with = [&](const json& cfg, const std::string& message) {
    INFO(cfg.dump());
    CHECK_THROWS_WITH_AS(make_balancer(cfg, tasks), doctest::Contains(message.c_str()), Error);
  };
  fails_with(json{{"method", "fixed"}, {"wieghts", {{"semseg", 1}}}}, "unknown key 'wieghts'");
  fails_with(json{{"method", "fixed"}, {"temperature", 2}}, "key 'temperature' belongs to method 'dwa', not 'fixed'");
  fails_with(json{{"method", "uncertainty"}, {"alpha", 1.5}}, "key 'alpha' belongs to method 'gradnorm'");
  fails_with(json{{"method", "adaptive"}}, "unknown method 'adaptive'");
  fails_with(json{{"weights", {{"semseg", 1}}}}, "'method' must be one of");
  fails_with(json::array(), "expected an object");
  fails_with(json{{"method", "fixed"}, {"weights", {{"semseg", 1}}}}, "no weight for task 'depth'");
  fails_with(json{{"method", "fixed"}, {"weights", {{"semseg", 1}, {"depth", 1}, {"sal", 5}}}},
             "weight for 'sal', which is not a task (tasks: semseg, depth)");
  fails_with(json{{"method", "fixed"}, {"weights", {{"semseg", 1}, {"depth", -1}}}},
             "the weight of task 'depth' must be a number >= 0");
  fails_with(json{{"method", "fixed"}, {"weights", {{"semseg", 1}, {"depth", "1"}}}}, "task 'depth'");
  fails_with(json{{"method", "dwa"}, {"temperature", 0}}, "'temperature' must be a number > 0, got 0");
  fails_with(json{{"method", "dwa"}, {"temperature", "2"}}, "'temperature' must be a number > 0");
  fails_with(json{{"method", "gradnorm"}, {"alpha", -1}}, "'alpha' must be a number >= 0");
  fails_with(json{{"method", "gradnorm"}, {"lr", 0}}, "'lr' must be a number > 0");
  fails_with(json{{"method", "gradnorm"}, {"optimizer", "rmsprop"}}, "'optimizer' must be \"adam\" or \"sgd\"");
}

TEST_CASE("gradnorm on a small conv net: the norms equal those of ordinary per-task backward passes") {
  // backbone conv -> relu -> shared conv (W) -> relu -> two 1x1 heads, a regression and a balanced-BCE task.
  Rng rng(3);
  Tensor x = random_tensor({2, 5, 5, 2}, rng);
  Tensor backbone = random_tensor({4, 3, 3, 2}, rng).set_requires_grad(true);
  Tensor W = random_tensor({4, 3, 3, 4}, rng).set_requires_grad(true);
  Tensor head1 = random_tensor({1, 1, 1, 4}, rng).set_requires_grad(true);
  Tensor head2 = random_tensor({1, 1, 1, 4}, rng).set_requires_grad(true);
  Tensor depth = random_tensor({2, 5, 5, 1}, rng, 0.5, 2.0);
  Tensor edge = random_tensor({2, 5, 5, 1}, rng, 0.0, 1.0);
  ops::Conv2dOptions same{1, 1, 1};
  auto losses = [&]() {
    Tensor f = ops::relu(ops::conv2d(ops::relu(ops::conv2d(x, backbone, Tensor(), same)), W, Tensor(), same));
    return std::map<std::string, Tensor>{
        {"depth", ops::masked_l1(ops::conv2d(f, head1, Tensor()), depth)},
        {"edge", ops::balanced_bce(ops::conv2d(f, head2, Tensor()), edge, 0.95)}};
  };
  std::vector<double> expected;
  for (const auto& [task, loss] : losses()) {  // the map orders the tasks as the balancer does: depth, edge
    W.impl().grad.reset();
    loss.backward(/*retain_graph=*/true);  // the two losses share the trunk's graph
    expected.push_back(std::sqrt(ops::sum(ops::mul(W.grad(), W.grad())).item()));
  }
  for (Tensor* p : {&backbone, &W, &head1, &head2}) p->impl().grad.reset();
  GradNormBalancer gn({"depth", "edge"}, 1.5, 0.025);
  gn.set_shared_weight(W);
  Tensor total = gn.combine(losses(), 0, 0);
  CHECK(gn.last_step().grad_norms[0] == doctest::Approx(expected[0]).epsilon(1e-12));
  CHECK(gn.last_step().grad_norms[1] == doctest::Approx(expected[1]).epsilon(1e-12));
  for (Tensor* p : {&backbone, &W, &head1, &head2}) CHECK_FALSE(p->grad().defined());
  total.backward();
  for (Tensor* p : {&backbone, &W, &head1, &head2}) CHECK(p->grad().defined());
}
