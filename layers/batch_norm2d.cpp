#include "layers/batch_norm2d.h"

#include "core/ops.h"

namespace mtinet {

BatchNorm2d::BatchNorm2d(int64_t channels, double momentum, double eps) : momentum_(momentum), eps_(eps) {
  weight_ = register_parameter("weight", Tensor::full({channels}, 1.0));
  bias_ = register_parameter("bias", Tensor::zeros({channels}));
  running_mean_ = register_buffer("running_mean", Tensor::zeros({channels}));
  running_var_ = register_buffer("running_var", Tensor::full({channels}, 1.0));
  num_batches_tracked_ = register_buffer("num_batches_tracked", Tensor::zeros({}, DType::I64));
}

Tensor BatchNorm2d::forward(const Tensor& x) { return forward_fused(x, Tensor(), false); }

Tensor BatchNorm2d::forward_relu(const Tensor& x, const Tensor& residual) { return forward_fused(x, residual, true); }

Tensor BatchNorm2d::forward_fused(const Tensor& x, const Tensor& residual, bool relu) {
  Tensor y = ops::batch_norm_relu(x, weight_, bias_, running_mean_, running_var_, is_training(), momentum_, eps_,
                                  residual, relu);
  // Counted after the op succeeded, so a rejected input leaves the state untouched.
  if (is_training()) num_batches_tracked_.data<int64_t>()[0] += 1;
  return y;
}

}  // namespace mtinet
