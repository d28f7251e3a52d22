// The layers that run BatchNorm + (residual +) ReLU as one op (conv_bn with ReLU through Sequential, BasicBlock,
// Bottleneck) give the bits of their layers called one by one, unfused, in f64 and f32: outputs, the input's and
// every parameter's gradient, running statistics and batch counts, in training and eval; and keep PyTorch's names.
#include <memory>
#include <string>

#include "core/ops.h"
#include "layers/blocks.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::test;

namespace {

// The convolutions and BatchNorms of a module in registration order (for_each_module is pre-order).
struct Parts {
  std::vector<Conv2d*> convs;
  std::vector<BatchNorm2d*> bns;
  explicit Parts(Module& m) {
    m.for_each_module([&](Module& child) {
      if (auto* c = dynamic_cast<Conv2d*>(&child)) convs.push_back(c);
      if (auto* b = dynamic_cast<BatchNorm2d*>(&child)) bns.push_back(b);
    });
  }
};

// BasicBlock as it was written before the fusion: conv1 bn1 relu conv2 bn2 (+ downsample conv, bn), add, relu.
Tensor basic_block_unfused(Module& block, const Tensor& x) {
  Parts p(block);
  Tensor y = ops::relu(p.bns[0]->forward(p.convs[0]->forward(x)));
  y = p.bns[1]->forward(p.convs[1]->forward(y));
  Tensor residual = p.convs.size() > 2 ? p.bns[2]->forward(p.convs[2]->forward(x)) : x;
  return ops::relu(ops::add(y, residual));
}

Tensor bottleneck_unfused(Module& block, const Tensor& x) {
  Parts p(block);
  Tensor y = ops::relu(p.bns[0]->forward(p.convs[0]->forward(x)));
  y = ops::relu(p.bns[1]->forward(p.convs[1]->forward(y)));
  y = p.bns[2]->forward(p.convs[2]->forward(y));
  Tensor residual = p.convs.size() > 3 ? p.bns[3]->forward(p.convs[3]->forward(x)) : x;
  return ops::relu(ops::add(y, residual));
}

// conv_bn(relu = true) layer by layer: Sequential would fuse BN and ReLU, so call the children one at a time.
Tensor conv_bn_relu_unfused(Module& m, const Tensor& x) {
  auto& seq = dynamic_cast<Sequential&>(m);
  Tensor y = x;
  for (size_t i = 0; i < seq.size(); ++i) y = seq[i].forward(y);
  return y;
}

// Every value a forward + backward leaves behind: output, input gradient, then per state entry its value and, for
// parameters, its gradient.
std::vector<std::vector<double>> step(Layer& m, const std::function<Tensor(const Tensor&)>& forward, DType dt,
                                      uint64_t seed) {
  Rng rng(seed);
  Tensor x = random_tensor({2, 9, 7, 8}, rng, -1, 1, dt).set_requires_grad(true);
  Tensor y = forward(x);
  y.backward(random_tensor(y.shape(), rng, -1, 1, dt));
  std::vector<std::vector<double>> out{y.to_double_vector(), x.grad().to_double_vector()};
  for (const auto& e : m.state_entries()) {
    out.push_back(e.tensor.to_double_vector());
    if (e.tensor.requires_grad() && e.tensor.grad().defined()) out.push_back(e.tensor.grad().to_double_vector());
  }
  return out;
}

using Factory = std::function<std::shared_ptr<Layer>(Rng&)>;
using Unfused = std::function<Tensor(Module&, const Tensor&)>;

// Two copies of one module (same seed, so the same weights): the fused forward on one, the unfused on the other.
void check_fused_equals_unfused(const std::string& what, const Factory& make, const Unfused& unfused) {
  for (DType dt : {DType::F64, DType::F32}) {
    for (bool training : {true, false}) {
      Rng ra(11), rb(11);
      std::shared_ptr<Layer> a = make(ra), b = make(rb);
      a->to(dt);
      b->to(dt);
      a->train(training);
      b->train(training);
      auto fa = step(*a, [&](const Tensor& x) { return a->forward(x); }, dt, 3);
      auto fb = step(*b, [&](const Tensor& x) { return unfused(*b, x); }, dt, 3);
      INFO(what << " " << dtype_name(dt) << (training ? " training" : " eval"));
      REQUIRE(fa.size() == fb.size());
      for (size_t k = 0; k < fa.size(); ++k) {
        INFO("result " << k);
        CHECK(fa[k] == fb[k]);  // bit for bit
      }
    }
  }
}

}  // namespace

TEST_CASE("BasicBlock and Bottleneck fuse BN, residual and ReLU with the unfused layers' bits") {
  check_fused_equals_unfused("BasicBlock 8->8", [](Rng& r) { return std::make_shared<BasicBlock>(8, 8, r); },
                             basic_block_unfused);
  check_fused_equals_unfused("BasicBlock 8->6 stride 2 (downsample)",
                             [](Rng& r) { return std::make_shared<BasicBlock>(8, 6, r, 2); }, basic_block_unfused);
  check_fused_equals_unfused("Bottleneck 8 -> 4*2", [](Rng& r) { return std::make_shared<Bottleneck>(8, 2, r); },
                             bottleneck_unfused);
  check_fused_equals_unfused("Bottleneck 8 -> 4*4 stride 2",
                             [](Rng& r) { return std::make_shared<Bottleneck>(8, 4, r, 2); }, bottleneck_unfused);
}

TEST_CASE("conv_bn with ReLU runs BN + ReLU fused in Sequential, with the unfused layers' bits and names") {
  auto make = [](Rng& r) { return conv_bn(Conv2dSpec{8, 5, 3, 1, 1}, r, 0.01, true); };
  check_fused_equals_unfused("conv_bn relu", make, conv_bn_relu_unfused);
  Rng rng(1);
  auto seq = make(rng);
  REQUIRE(seq->size() == 3);  // the ReLU is still child 2: the reference's indices
  CHECK(dynamic_cast<ReLU*>(&(*seq)[2]) != nullptr);
  std::vector<std::string> names;
  for (const auto& e : seq->state_entries()) names.push_back(e.name);
  CHECK(names == std::vector<std::string>{"0.weight", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                                          "1.num_batches_tracked"});
  // The fused path counts the batch like BatchNorm2d::forward.
  Tensor x = Tensor::zeros({1, 3, 3, 8});
  fill_uniform(x, rng, -1, 1);
  seq->forward(x);
  CHECK(dynamic_cast<BatchNorm2d&>((*seq)[1]).batches_tracked() == 1);
}
