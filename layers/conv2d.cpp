#include "layers/conv2d.h"

#include <cmath>

namespace mtinet {

namespace {
Tensor uniform_init(const Shape& shape, int64_t fan_in, Rng& rng) {
  Tensor t = Tensor::empty(shape, DType::F32);
  double bound = 1.0 / std::sqrt(double(fan_in));
  fill_uniform(t, rng, -bound, bound);
  return t;
}
}  // namespace

Conv2d::Conv2d(const Conv2dSpec& spec, Rng& rng) : spec_(spec) {
  MTINET_CHECK(spec.in > 0 && spec.out > 0 && spec.kernel > 0, "Conv2d: bad channel/kernel sizes in=", spec.in,
               " out=", spec.out, " kernel=", spec.kernel);
  int64_t fan_in = spec.in * spec.kernel * spec.kernel;
  weight_ = register_parameter("weight", uniform_init({spec.out, spec.kernel, spec.kernel, spec.in}, fan_in, rng),
                               ExportLayout::ConvWeight);
  if (spec.bias) bias_ = register_parameter("bias", uniform_init({spec.out}, fan_in, rng));
}

Tensor Conv2d::forward(const Tensor& x) {
  return ops::conv2d(x, weight_, bias_, {spec_.stride, spec_.padding, spec_.dilation});
}

Linear::Linear(int64_t in, int64_t out, Rng& rng, bool bias) {
  weight_ = register_parameter("weight", uniform_init({out, in}, in, rng));
  if (bias) bias_ = register_parameter("bias", uniform_init({out}, in, rng));
}

Tensor Linear::forward(const Tensor& x) { return ops::linear(x, weight_, bias_); }

}  // namespace mtinet
