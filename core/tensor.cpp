#include "core/tensor.h"

#include <cstring>
#include <sstream>

#include "core/allocator.h"
#include "core/autograd.h"
#include "kernels/elementwise/elementwise.h"

namespace mtinet {

std::string shape_str(const Shape& s) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  os << "]";
  return os.str();
}

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  for (int64_t d : shape) MTINET_CHECK(d >= 0, "negative dimension in shape ", shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  try {
    impl->storage = std::make_shared<Storage>(size_t(shape_numel(shape)) * dtype_size(dtype), device);
  } catch (const Error& e) {
    if (device != Device::CUDA) throw;
    // The allocator knows bytes only; the shape tells the user which tensor did not fit.
    MTINET_FAIL("cannot allocate a ", dtype_name(dtype), " tensor of shape ", shape_str(shape), " on CUDA: ", e.what());
  }
  impl->shape = shape;
  impl->dtype = dtype;
  return Tensor(impl);
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  zero_bytes(t.raw_data(), device, t.nbytes());
  return t;
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  kernels::fill(t, value);
  return t;
}

Tensor Tensor::view_of(const Tensor& base, int64_t offset, const Shape& shape) {
  int64_t base_elems = int64_t(base.impl().storage->bytes() / dtype_size(base.dtype()));
  MTINET_CHECK(offset >= 0 && offset + shape_numel(shape) <= base_elems, "view of ", shape_str(shape), " at offset ",
               offset, " exceeds the storage of ", base.describe());
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.impl().storage;
  impl->offset = offset;
  impl->shape = shape;
  impl->dtype = base.dtype();
  return Tensor(impl);
}

int64_t Tensor::dim(int i) const {
  int n = ndim();
  int j = i < 0 ? i + n : i;
  MTINET_CHECK(j >= 0 && j < n, "dimension ", i, " out of range for ", describe());
  return impl().shape[size_t(j)];
}

std::string Tensor::describe() const {
  if (!defined()) return "<undefined>";
  std::ostringstream os;
  if (!name().empty()) os << "'" << name() << "' ";
  os << dtype_name(dtype()) << " " << device_name(device()) << " " << shape_str(shape());
  return os.str();
}

void* Tensor::raw_data() const {
  const TensorImpl& t = impl();
  if (!t.storage || !t.storage->data()) return nullptr;
  return static_cast<char*>(t.storage->data()) + t.offset * int64_t(dtype_size(t.dtype));
}

Tensor Tensor::to(Device d) const {
  if (device() == d) return *this;
  Tensor out = empty(shape(), dtype(), d);
  copy_bytes(out.raw_data(), d, raw_data(), device(), nbytes());
  return out;
}

Tensor Tensor::to(DType dt) const {
  if (dtype() == dt) return *this;
  Tensor out = empty(shape(), dt, device());
  kernels::convert(*this, out);
  return out;
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape(), dtype(), device());
  copy_bytes(out.raw_data(), device(), raw_data(), device(), nbytes());
  return out;
}

Tensor Tensor::detach() const { return view_of(*this, impl().offset, shape()); }

Tensor Tensor::reshape_view(const Shape& s) const {
  MTINET_CHECK(shape_numel(s) == numel(), "cannot view ", describe(), " as ", shape_str(s));
  return view_of(*this, impl().offset, s);
}

Tensor Tensor::slice_batch(int64_t begin, int64_t end) const {
  MTINET_CHECK(ndim() >= 1 && 0 <= begin && begin <= end && end <= dim(0), "slice_batch [", begin, ", ", end,
               ") out of range for ", describe());
  Shape s = shape();
  int64_t row = numel() / (s[0] ? s[0] : 1);
  s[0] = end - begin;
  return view_of(*this, impl().offset + begin * row, s);
}

void Tensor::copy_from(const Tensor& src) const {
  MTINET_CHECK(src.shape() == shape() && src.dtype() == dtype(), "copy_from: ", src.describe(), " into ", describe());
  copy_bytes(raw_data(), device(), src.raw_data(), src.device(), nbytes());
  bump_version();
}

void Tensor::zero_() const {
  zero_bytes(raw_data(), device(), nbytes());
  bump_version();
}

double Tensor::item() const {
  MTINET_CHECK(numel() == 1, "item() needs a one-element tensor, got ", describe());
  return to_double_vector()[0];
}

std::vector<double> Tensor::to_double_vector() const {
  Tensor h = to(Device::CPU).to(DType::F64);
  const double* p = h.data<double>();
  return std::vector<double>(p, p + h.numel());
}

Tensor& Tensor::set_requires_grad(bool r) {
  MTINET_CHECK(!r || is_floating(dtype()), "only floating tensors can require grad: ", describe());
  impl().requires_grad = r;
  return *this;
}

void Tensor::set_grad(const Tensor& g) {
  if (g.defined()) {
    MTINET_CHECK(g.shape() == shape() && g.dtype() == dtype() && g.device() == device(), "gradient ", g.describe(),
                 " does not match ", describe());
  }
  impl().grad = g.impl_ptr();
}

void Tensor::backward(bool retain_graph) const {
  MTINET_CHECK(numel() == 1, "backward() without a gradient needs a scalar, got ", describe());
  backward(Tensor::full(shape(), 1.0, dtype(), device()), retain_graph);
}

void Tensor::backward(const Tensor& grad_output, bool retain_graph) const {
  run_backward(*this, grad_output, retain_graph);
}

void check_same_shape(const char* op, const Tensor& a, const Tensor& b) {
  MTINET_CHECK(a.shape() == b.shape(), op, ": shape mismatch between ", a.describe(), " and ", b.describe());
}

void check_same_device(const char* op, const Tensor& a, const Tensor& b) {
  MTINET_CHECK(a.device() == b.device(), op, ": device mismatch between ", a.describe(), " and ", b.describe());
}

void check_floating(const char* op, const Tensor& a) {
  MTINET_CHECK(a.dtype() == DType::F32 || a.dtype() == DType::F64, op, ": expected an f32 or f64 tensor, got ",
               a.describe());
}

void check_ndim(const char* op, const Tensor& a, int ndim) {
  MTINET_CHECK(a.ndim() == ndim, op, ": expected a ", ndim, "-d tensor, got ", a.describe());
}

}  // namespace mtinet
