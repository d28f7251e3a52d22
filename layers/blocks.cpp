#include "layers/blocks.h"

namespace mtinet {

std::shared_ptr<Sequential> conv_bn(const Conv2dSpec& spec, Rng& rng, double bn_momentum, bool relu) {
  auto seq = std::make_shared<Sequential>();
  seq->push_back(std::make_shared<Conv2d>(spec, rng));
  seq->push_back(std::make_shared<BatchNorm2d>(spec.out, bn_momentum));
  if (relu) seq->push_back(std::make_shared<ReLU>());
  return seq;
}

BasicBlock::BasicBlock(int64_t in, int64_t out, Rng& rng, int stride, double bn_momentum) {
  conv1_ = register_module("conv1", std::make_shared<Conv2d>(Conv2dSpec{in, out, 3, stride, 1}, rng));
  bn1_ = register_module("bn1", std::make_shared<BatchNorm2d>(out, bn_momentum));
  conv2_ = register_module("conv2", std::make_shared<Conv2d>(Conv2dSpec{out, out, 3, 1, 1}, rng));
  bn2_ = register_module("bn2", std::make_shared<BatchNorm2d>(out, bn_momentum));
  if (stride != 1 || in != out)
    downsample_ = register_module("downsample", conv_bn(Conv2dSpec{in, out, 1, stride, 0}, rng, bn_momentum));
}

// relu(bn2(conv2(y)) + residual) is one fused op (BatchNorm2d::forward_relu), as is each BN + ReLU.
Tensor BasicBlock::forward(const Tensor& x) {
  Tensor y = bn1_->forward_relu(conv1_->forward(x));
  y = conv2_->forward(y);
  Tensor residual = downsample_ ? downsample_->forward(x) : x;
  return bn2_->forward_relu(y, residual);
}

Bottleneck::Bottleneck(int64_t in, int64_t planes, Rng& rng, int stride, double bn_momentum) {
  int64_t out = planes * kExpansion;
  conv1_ = register_module("conv1", std::make_shared<Conv2d>(Conv2dSpec{in, planes, 1, 1, 0}, rng));
  bn1_ = register_module("bn1", std::make_shared<BatchNorm2d>(planes, bn_momentum));
  conv2_ = register_module("conv2", std::make_shared<Conv2d>(Conv2dSpec{planes, planes, 3, stride, 1}, rng));
  bn2_ = register_module("bn2", std::make_shared<BatchNorm2d>(planes, bn_momentum));
  conv3_ = register_module("conv3", std::make_shared<Conv2d>(Conv2dSpec{planes, out, 1, 1, 0}, rng));
  bn3_ = register_module("bn3", std::make_shared<BatchNorm2d>(out, bn_momentum));
  if (stride != 1 || in != out)
    downsample_ = register_module("downsample", conv_bn(Conv2dSpec{in, out, 1, stride, 0}, rng, bn_momentum));
}

Tensor Bottleneck::forward(const Tensor& x) {
  Tensor y = bn1_->forward_relu(conv1_->forward(x));
  y = bn2_->forward_relu(conv2_->forward(y));
  y = conv3_->forward(y);
  Tensor residual = downsample_ ? downsample_->forward(x) : x;
  return bn3_->forward_relu(y, residual);
}

}  // namespace mtinet
