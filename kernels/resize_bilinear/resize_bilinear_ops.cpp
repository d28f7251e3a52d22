// Bilinear resize (align_corners=False) by output size or by scale factor; forward and gather-form backward in
// kernels/resize_bilinear/resize_bilinear*.
#include <cmath>

#include "core/autograd.h"
#include "core/ops.h"
#include "kernels/resize_bilinear/resize_bilinear.h"

namespace mtinet::ops {

namespace {
void check_resize_input(const char* op, const Tensor& x) {
  check_floating(op, x);
  check_ndim(op, x, 4);
  MTINET_CHECK(x.dim(1) > 0 && x.dim(2) > 0, op, ": input ", x.describe(), " has an empty spatial size");
}

// factor_h/factor_w: the scale factors the output size came from, or 0 when it was given (see the kernel header).
Tensor resize(const char* op, const Tensor& x, int64_t out_h, int64_t out_w, double factor_h, double factor_w) {
  Tensor y = Tensor::empty({x.dim(0), out_h, out_w, x.dim(3)}, x.dtype(), x.device());
  kernels::resize_bilinear_forward(x, y, factor_h, factor_w);
  Shape in_shape = x.shape();
  return record(y, op, {x}, {}, [in_shape, factor_h, factor_w](const Tensor& gy, const std::vector<Tensor>&) {
    Tensor gx = Tensor::empty(in_shape, gy.dtype(), gy.device());
    kernels::resize_bilinear_backward(gy, gx, factor_h, factor_w);
    return std::vector<Tensor>{gx};
  });
}
}  // namespace

Tensor resize_bilinear(const Tensor& x, int64_t out_h, int64_t out_w) {
  check_resize_input("resize_bilinear", x);
  MTINET_CHECK(out_h > 0 && out_w > 0, "resize_bilinear: output size ", out_h, "x", out_w, " of ", x.describe(),
               " must be positive");
  return resize("resize_bilinear", x, out_h, out_w, 0.0, 0.0);
}

Tensor resize_bilinear_scale(const Tensor& x, double scale_h, double scale_w) {
  check_resize_input("resize_bilinear_scale", x);
  MTINET_CHECK(std::isfinite(scale_h) && std::isfinite(scale_w) && scale_h > 0 && scale_w > 0,
               "resize_bilinear_scale: scale factors ", scale_h, ", ", scale_w, " for ", x.describe(),
               " must be positive and finite");
  // PyTorch computes the output size in double precision and floors it.
  const int64_t out_h = int64_t(std::floor(double(x.dim(1)) * scale_h));
  const int64_t out_w = int64_t(std::floor(double(x.dim(2)) * scale_w));
  MTINET_CHECK(out_h > 0 && out_w > 0, "resize_bilinear_scale: scale factors ", scale_h, ", ", scale_w, " give ",
               x.describe(), " an empty output size ", out_h, "x", out_w);
  return resize("resize_bilinear_scale", x, out_h, out_w, scale_h, scale_w);
}

}  // namespace mtinet::ops
