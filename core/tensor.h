// Tensor: a shape and dtype over a contiguous range of a Storage, plus the autograd links.
// Activations are NHWC: shape {N, H, W, C} in memory order. Conv weights are OHWI {O, KH, KW, I}.
// Copies of a Tensor share the same TensorImpl (like a shared_ptr); views share the Storage.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/storage.h"

namespace mtinet {

using Shape = std::vector<int64_t>;
std::string shape_str(const Shape& s);  // "[2, 3, 4]"
int64_t shape_numel(const Shape& s);

class Node;

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // in elements
  Shape shape;
  DType dtype = DType::F32;
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;    // leaf gradient (may view a flat gradient buffer)
  std::shared_ptr<Node> grad_fn;       // the op that produced this tensor, if it is differentiable
  std::string name;                    // optional, for error messages
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // --- construction ---
  static Tensor empty(const Shape& shape, DType dtype = DType::F32, Device device = Device::CPU);
  static Tensor zeros(const Shape& shape, DType dtype = DType::F32, Device device = Device::CPU);
  static Tensor full(const Shape& shape, double value, DType dtype = DType::F32, Device device = Device::CPU);
  template <class T>
  static Tensor from_vector(const Shape& shape, const std::vector<T>& values, Device device = Device::CPU);
  // A tensor of `shape` that views `base`'s storage starting at element `offset` (no copy, shares versions).
  static Tensor view_of(const Tensor& base, int64_t offset, const Shape& shape);

  // --- metadata ---
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  int ndim() const { return int(impl().shape.size()); }
  int64_t dim(int i) const;  // negative i counts from the end
  int64_t numel() const { return shape_numel(impl().shape); }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage ? impl().storage->device() : Device::CPU; }
  size_t nbytes() const { return size_t(numel()) * dtype_size(dtype()); }
  const std::string& name() const { return impl().name; }
  Tensor& set_name(std::string n) { impl().name = std::move(n); return *this; }
  std::string describe() const;  // "'name' f32 cpu [2, 3]" for messages

  // --- data ---
  void* raw_data() const;
  template <class T> T* data() const {
    MTINET_CHECK(dtype() == dtype_of<T>(), "tensor ", describe(), " accessed as ", dtype_name(dtype_of<T>()));
    return static_cast<T*>(raw_data());
  }
  Tensor to(Device d) const;          // copy to another device (or the same tensor if already there)
  Tensor to(DType dt) const;          // converting copy on CPU (same tensor if already that dtype)
  Tensor clone() const;               // deep copy, no autograd history
  Tensor detach() const;              // shares storage, no autograd history
  Tensor reshape_view(const Shape& s) const;  // same storage, new shape, no autograd history
  Tensor slice_batch(int64_t begin, int64_t end) const;  // view of rows [begin,end) of dim 0
  void copy_from(const Tensor& src) const;  // in-place copy of equal shape/dtype (any devices); bumps version
  void zero_() const;                 // in-place zero; bumps version
  double item() const;                // value of a one-element tensor (copies to host)
  std::vector<double> to_double_vector() const;  // all values as double (copies to host)

  // --- autograd ---
  bool requires_grad() const { return impl().requires_grad; }
  Tensor& set_requires_grad(bool r);
  Tensor grad() const { return Tensor(impl().grad); }
  void set_grad(const Tensor& g);  // a leaf's gradient storage (e.g. a view into a flat gradient buffer)
  const std::shared_ptr<Node>& grad_fn() const { return impl().grad_fn; }
  bool is_leaf() const { return impl().grad_fn == nullptr; }
  // Backpropagates from this tensor. A non-scalar root needs grad_output of the same shape.
  void backward(bool retain_graph = false) const;
  void backward(const Tensor& grad_output, bool retain_graph = false) const;

  // --- in-place tracking ---
  uint64_t version() const { return impl().storage ? impl().storage->version() : 0; }
  void bump_version() const { if (impl().storage) impl().storage->bump_version(); }

  TensorImpl& impl() const {
    MTINET_CHECK(impl_ != nullptr, "use of an undefined tensor");
    return *impl_;
  }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& o) const { return impl_ == o.impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

template <class T>
Tensor Tensor::from_vector(const Shape& shape, const std::vector<T>& values, Device device) {
  MTINET_CHECK(int64_t(values.size()) == shape_numel(shape), "from_vector: ", values.size(),
               " values for shape ", shape_str(shape));
  Tensor t = empty(shape, dtype_of<T>(), Device::CPU);
  std::copy(values.begin(), values.end(), t.data<T>());
  return device == Device::CPU ? t : t.to(device);
}

// Shape/dtype/device assertions with messages naming the op and tensor.
void check_same_shape(const char* op, const Tensor& a, const Tensor& b);
void check_same_device(const char* op, const Tensor& a, const Tensor& b);
void check_floating(const char* op, const Tensor& a);
void check_ndim(const char* op, const Tensor& a, int ndim);

}  // namespace mtinet
