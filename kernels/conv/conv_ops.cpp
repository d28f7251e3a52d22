// conv2d and linear: shape validation, forward dispatch to kernels/conv/conv2d* and kernels/conv/linear*, and the
// backward recorded beside each. Gradients are only computed for the inputs that required grad at forward time.
#include "core/autograd.h"
#include "core/ops.h"
#include "core/profiler.h"
#include "kernels/conv/conv2d.h"
#include "kernels/conv/linear.h"

namespace mtinet::ops {

namespace {

// A weight or bias must match the input's dtype and device.
void check_companion(const char* op, const Tensor& x, const Tensor& t) {
  check_floating(op, t);
  MTINET_CHECK(t.dtype() == x.dtype(), op, ": dtype of ", t.describe(), " differs from the input ", x.describe());
  check_same_device(op, x, t);
}

void check_bias(const char* op, const Tensor& x, const Tensor& bias, int64_t out_channels) {
  if (!bias.defined()) return;
  check_companion(op, x, bias);
  MTINET_CHECK(bias.ndim() == 1 && bias.dim(0) == out_channels, op, ": bias must be {", out_channels,
               "} (one per output channel), got ", bias.describe());
}

kernels::Conv2dShape conv2d_shape(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dOptions& opt) {
  check_floating("conv2d", x);
  MTINET_CHECK(x.ndim() == 4, "conv2d: input x must be NHWC {N, H, W, Cin}, got ", x.describe());
  check_companion("conv2d", x, w);
  MTINET_CHECK(w.ndim() == 4, "conv2d: weight must be OHWI {Cout, KH, KW, Cin}, got ", w.describe());
  MTINET_CHECK(x.dim(3) == w.dim(3), "conv2d: input channels of x (", x.dim(3), ", ", x.describe(),
               ") != weight's I (", w.dim(3), ", ", w.describe(), ")");
  MTINET_CHECK(x.dim(1) > 0 && x.dim(2) > 0 && x.dim(3) > 0, "conv2d: input x has an empty dimension: ",
               x.describe());
  MTINET_CHECK(w.dim(0) > 0 && w.dim(1) > 0 && w.dim(2) > 0, "conv2d: weight has an empty dimension: ",
               w.describe());
  MTINET_CHECK(opt.stride >= 1 && opt.dilation >= 1 && opt.padding >= 0, "conv2d: needs stride >= 1, dilation >= 1",
               " and padding >= 0, got stride ", opt.stride, ", dilation ", opt.dilation, ", padding ", opt.padding);
  check_bias("conv2d", x, bias, w.dim(0));

  kernels::Conv2dShape s;
  s.n = x.dim(0), s.h = x.dim(1), s.w = x.dim(2), s.cin = x.dim(3);
  s.cout = w.dim(0), s.kh = w.dim(1), s.kw = w.dim(2);
  s.stride = opt.stride, s.padding = opt.padding, s.dilation = opt.dilation;
  // Ho = floor((H + 2p - d(KH-1) - 1) / s) + 1; the numerator is tested first so negative values never round up.
  const int64_t span_h = s.h + 2 * s.padding - s.dilation * (s.kh - 1) - 1;
  const int64_t span_w = s.w + 2 * s.padding - s.dilation * (s.kw - 1) - 1;
  s.ho = span_h < 0 ? 0 : span_h / s.stride + 1;
  s.wo = span_w < 0 ? 0 : span_w / s.stride + 1;
  MTINET_CHECK(s.ho > 0 && s.wo > 0, "conv2d: output size <= 0 (", s.ho, " x ", s.wo, ") for input x ",
               x.describe(), " with weight ", w.describe(), ", padding ", s.padding, ", dilation ", s.dilation);
  return s;
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dOptions& opt) {
  const kernels::Conv2dShape s = conv2d_shape(x, w, bias, opt);
  Tensor y = Tensor::empty({s.n, s.ho, s.wo, s.cout}, x.dtype(), x.device());
  if (s.n > 0) kernels::conv2d_forward(x, w, bias, s, y);
  // Forward multiply-accumulates: one per output element and kernel tap (the bias add is not counted).
  if (profiler::macs_enabled())
    profiler::record_macs("conv2d", w, y.shape(), s.n * s.ho * s.wo * s.cout * s.cin * s.kh * s.kw);

  const bool need_gx = x.requires_grad(), need_gw = w.requires_grad();
  const bool need_gb = bias.defined() && bias.requires_grad();
  // Saves only what the needed gradients read: x for gw, w for gx.
  return record(y, "conv2d", {x, w, bias}, {need_gw ? x : Tensor(), need_gx ? w : Tensor()},
                [s, need_gx, need_gw, need_gb](const Tensor& gy, const std::vector<Tensor>& saved) {
                  Tensor gx, gw, gb;
                  if (need_gx) {
                    gx = Tensor::empty({s.n, s.h, s.w, s.cin}, gy.dtype(), gy.device());
                    if (s.n > 0) kernels::conv2d_backward_input(gy, saved[1], s, gx);
                  }
                  if (need_gw) {
                    const Shape w_shape{s.cout, s.kh, s.kw, s.cin};
                    gw = s.n > 0 ? Tensor::empty(w_shape, gy.dtype(), gy.device())
                                 : Tensor::zeros(w_shape, gy.dtype(), gy.device());
                    if (s.n > 0) kernels::conv2d_backward_weight(gy, saved[0], s, gw);
                  }
                  if (need_gb) {
                    gb = Tensor::empty({s.cout}, gy.dtype(), gy.device());
                    kernels::bias_backward(gy, gb);  // an empty batch sums to zero
                  }
                  return std::vector<Tensor>{gx, gw, gb};
                });
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias) {
  check_floating("linear", x);
  MTINET_CHECK(x.ndim() == 2, "linear: input x must be {N, I}, got ", x.describe());
  check_companion("linear", x, w);
  MTINET_CHECK(w.ndim() == 2, "linear: weight must be {O, I}, got ", w.describe());
  MTINET_CHECK(x.dim(1) == w.dim(1), "linear: input features of x (", x.dim(1), ", ", x.describe(),
               ") != weight's I (", w.dim(1), ", ", w.describe(), ")");
  MTINET_CHECK(w.dim(0) > 0 && w.dim(1) > 0, "linear: weight has an empty dimension: ", w.describe());
  check_bias("linear", x, bias, w.dim(0));

  const int64_t n = x.dim(0);
  Tensor y = Tensor::empty({n, w.dim(0)}, x.dtype(), x.device());
  if (n > 0) kernels::linear_forward(x, w, bias, y);
  if (profiler::macs_enabled()) profiler::record_macs("linear", w, y.shape(), n * w.dim(0) * w.dim(1));

  const bool need_gx = x.requires_grad(), need_gw = w.requires_grad();
  const bool need_gb = bias.defined() && bias.requires_grad();
  const Shape x_shape = x.shape(), w_shape = w.shape();
  return record(y, "linear", {x, w, bias}, {need_gw ? x : Tensor(), need_gx ? w : Tensor()},
                [n, x_shape, w_shape, need_gx, need_gw, need_gb](const Tensor& gy, const std::vector<Tensor>& saved) {
                  Tensor gx, gw, gb;
                  if (need_gx) {
                    gx = Tensor::empty(x_shape, gy.dtype(), gy.device());
                    if (n > 0) kernels::linear_backward_input(gy, saved[1], gx);
                  }
                  if (need_gw) {
                    gw = n > 0 ? Tensor::empty(w_shape, gy.dtype(), gy.device())
                               : Tensor::zeros(w_shape, gy.dtype(), gy.device());
                    if (n > 0) kernels::linear_backward_weight(gy, saved[0], gw);
                  }
                  if (need_gb) {
                    gb = Tensor::empty({w_shape[0]}, gy.dtype(), gy.device());
                    kernels::bias_backward(gy, gb);
                  }
                  return std::vector<Tensor>{gx, gw, gb};
                });
}

}  // namespace mtinet::ops
