// BatchNorm2d with PyTorch's state (weight, bias, running_mean, running_var, num_batches_tracked) and momentum
// convention: running = (1 - momentum) * running + momentum * batch. HRNet's backbone uses momentum 0.01, the
// MTI-Net heads 0.1.
#pragma once
#include "layers/layer.h"

namespace mtinet {

class BatchNorm2d : public Layer {
 public:
  explicit BatchNorm2d(int64_t channels, double momentum = 0.1, double eps = 1e-5);
  Tensor forward(const Tensor& x) override;
  // relu(forward(x) + residual) as one fused op (ops::batch_norm_relu); residual may be undefined. For a BatchNorm
  // followed by a ReLU (Sequential does this by itself) and a residual block's last BatchNorm, add and ReLU.
  Tensor forward_relu(const Tensor& x, const Tensor& residual = Tensor());
  int64_t batches_tracked() const { return num_batches_tracked_.data<int64_t>()[0]; }
  double momentum() const { return momentum_; }
  void set_momentum(double m) { momentum_ = m; }

 private:
  Tensor forward_fused(const Tensor& x, const Tensor& residual, bool relu);

  double momentum_, eps_;
  Tensor weight_, bias_, running_mean_, running_var_, num_batches_tracked_;
};

}  // namespace mtinet
