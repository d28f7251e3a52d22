#include "layers/attention.h"

#include "layers/activation_tap.h"

#include "core/ops.h"

namespace mtinet {

namespace {
class Sigmoid : public Layer {
 public:
  Tensor forward(const Tensor& x) override { return ops::sigmoid(x); }
};
}  // namespace

SEBlock::SEBlock(int64_t channels, Rng& rng, int64_t reduction) {
  int64_t hidden = channels / reduction;
  MTINET_CHECK(hidden > 0, "SEBlock: ", channels, " channels with reduction ", reduction, " leaves no hidden units");
  squeeze_ = register_module("squeeze", std::make_shared<Sequential>());
  squeeze_->push_back(std::make_shared<Linear>(channels, hidden, rng));
  squeeze_->push_back(std::make_shared<ReLU>());
  squeeze_->push_back(std::make_shared<Linear>(hidden, channels, rng));
  squeeze_->push_back(std::make_shared<Sigmoid>());
}

Tensor SEBlock::forward(const Tensor& x) {
  return ops::channel_scale(x, squeeze_->forward(ops::global_avg_pool(x)));
}

SABlock::SABlock(int64_t in, int64_t out, Rng& rng) {
  attention_ = register_module("attention", std::make_shared<Sequential>());
  attention_->push_back(std::make_shared<Conv2d>(Conv2dSpec{in, out, 3, 1, 1}, rng));
  attention_->push_back(std::make_shared<Sigmoid>());
  conv_ = register_module("conv", std::make_shared<Conv2d>(Conv2dSpec{in, out, 3, 1, 1}, rng));
}

Tensor SABlock::forward(const Tensor& x) {
  Tensor attention = attention_->forward(x);
  tap::record("attention", attention);  // the spatial-attention map, for mtinet predict --explain
  return ops::mul(conv_->forward(x), attention);
}

}  // namespace mtinet
