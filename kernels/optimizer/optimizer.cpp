#include "kernels/optimizer/optimizer.h"

namespace mtinet::kernels {

void sgd_step(Tensor& params, const Tensor& grads, Tensor& momentum_buf, const SgdParams& h) {
  MTINET_ON_DEVICE(params.device(), sgd_step, params, grads, momentum_buf, h);
  params.bump_version();
}
void adam_step(Tensor& params, const Tensor& grads, Tensor& m, Tensor& v, const AdamParams& h) {
  MTINET_ON_DEVICE(params.device(), adam_step, params, grads, m, v, h);
  params.bump_version();
}
void sum_squares(const Tensor& x, Tensor& out) { MTINET_ON_DEVICE(x.device(), sum_squares, x, out); }
void scale_by(Tensor& x, const Tensor& s) {
  MTINET_ON_DEVICE(x.device(), scale_by, x, s);
  x.bump_version();
}

}  // namespace mtinet::kernels
