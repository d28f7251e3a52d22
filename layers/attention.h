// The gating blocks of MTI-Net: squeeze-and-excitation (FPM) and spatial attention (multi-modal distillation).
#pragma once
#include <memory>

#include "core/rng.h"
#include "layers/conv2d.h"

namespace mtinet {

// x * sigmoid(W2 relu(W1 mean_hw(x) + b1) + b2), per channel; children squeeze.{0: Linear, 2: Linear}.
class SEBlock : public Layer {
 public:
  SEBlock(int64_t channels, Rng& rng, int64_t reduction = 16);
  Tensor forward(const Tensor& x) override;

 private:
  std::shared_ptr<Sequential> squeeze_;
};

// conv(x) * sigmoid(attention_conv(x)), both 3x3 without bias; children attention.0 (conv) and conv.
class SABlock : public Layer {
 public:
  SABlock(int64_t in, int64_t out, Rng& rng);
  Tensor forward(const Tensor& x) override;

 private:
  std::shared_ptr<Sequential> attention_;
  std::shared_ptr<Conv2d> conv_;
};

}  // namespace mtinet
