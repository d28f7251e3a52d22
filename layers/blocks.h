// Residual blocks as HRNet and torchvision define them (names conv1/bn1/conv2/bn2[/conv3/bn3]/downsample.{0,1}).
#pragma once
#include <memory>

#include "core/rng.h"
#include "layers/batch_norm2d.h"
#include "layers/conv2d.h"

namespace mtinet {

// conv3x3(stride) - BN - ReLU - conv3x3 - BN, plus the identity or a 1x1 conv + BN downsample, then ReLU.
// A downsample is built when stride != 1 or in != out (or when forced, as some reference heads do).
class BasicBlock : public Layer {
 public:
  static constexpr int kExpansion = 1;
  BasicBlock(int64_t in, int64_t out, Rng& rng, int stride = 1, double bn_momentum = 0.1);
  Tensor forward(const Tensor& x) override;

 private:
  std::shared_ptr<Conv2d> conv1_, conv2_;
  std::shared_ptr<BatchNorm2d> bn1_, bn2_;
  std::shared_ptr<Sequential> downsample_;
};

// conv1x1 - BN - ReLU - conv3x3(stride) - BN - ReLU - conv1x1 (planes*4) - BN, plus residual, then ReLU.
class Bottleneck : public Layer {
 public:
  static constexpr int kExpansion = 4;
  Bottleneck(int64_t in, int64_t planes, Rng& rng, int stride = 1, double bn_momentum = 0.1);
  Tensor forward(const Tensor& x) override;

 private:
  std::shared_ptr<Conv2d> conv1_, conv2_, conv3_;
  std::shared_ptr<BatchNorm2d> bn1_, bn2_, bn3_;
  std::shared_ptr<Sequential> downsample_;
};

// A conv + BN pair as a Sequential {0: conv, 1: BN}: the shape of every downsample and fuse branch in HRNet.
std::shared_ptr<Sequential> conv_bn(const Conv2dSpec& spec, Rng& rng, double bn_momentum, bool relu = false);

}  // namespace mtinet
