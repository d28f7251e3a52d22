// Conv2d and Linear layers with PyTorch's default initialisation (kaiming-uniform with a = sqrt(5), i.e.
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases), so freshly built models match PyTorch's statistics.
#pragma once
#include "core/ops.h"
#include "core/rng.h"
#include "layers/layer.h"

namespace mtinet {

struct Conv2dSpec {
  int64_t in = 0, out = 0;
  int kernel = 3;
  int stride = 1;
  int padding = 0;
  int dilation = 1;
  bool bias = false;
};

class Conv2d : public Layer {
 public:
  Conv2d(const Conv2dSpec& spec, Rng& rng);
  Tensor forward(const Tensor& x) override;
  const Conv2dSpec& spec() const { return spec_; }
  Tensor& weight() { return weight_; }  // OHWI

 private:
  Conv2dSpec spec_;
  Tensor weight_, bias_;
};

class Linear : public Layer {
 public:
  Linear(int64_t in, int64_t out, Rng& rng, bool bias = true);
  Tensor forward(const Tensor& x) override;

 private:
  Tensor weight_, bias_;  // weight {out, in} as PyTorch
};

}  // namespace mtinet
