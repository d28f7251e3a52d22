#include "core/parameter_set.h"

namespace mtinet {

ParameterSet::ParameterSet(const std::vector<Tensor>& params) : params_(params) {
  MTINET_CHECK(!params_.empty(), "ParameterSet needs at least one parameter");
  DType dt = params_[0].dtype();
  Device dev = params_[0].device();
  int64_t total = 0;
  for (const Tensor& p : params_) {
    MTINET_CHECK(p.dtype() == dt && p.device() == dev, "ParameterSet: parameter ", p.describe(),
                 " differs in dtype/device from the first, ", params_[0].describe());
    MTINET_CHECK(is_floating(p.dtype()), "ParameterSet: parameter ", p.describe(), " is not floating point");
    offsets_.push_back(total);
    total += p.numel();
  }
  flat_params_ = Tensor::empty({total}, dt, dev);
  flat_grads_ = Tensor::zeros({total}, dt, dev);
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor dst = Tensor::view_of(flat_params_, offsets_[i], params_[i].shape());
    dst.copy_from(params_[i]);
  }
  rebind();
}

void ParameterSet::rebind() {
  for (size_t i = 0; i < params_.size(); ++i) {
    TensorImpl& impl = params_[i].impl();
    impl.storage = flat_params_.impl().storage;
    impl.offset = offsets_[i];
    impl.requires_grad = true;
    impl.grad = Tensor::view_of(flat_grads_, offsets_[i], params_[i].shape()).impl_ptr();
  }
}

void ParameterSet::zero_grad() { flat_grads_.zero_(); }

void ParameterSet::to(Device d) {
  if (flat_params_.device() == d) return;
  flat_params_ = flat_params_.to(d);
  flat_grads_ = flat_grads_.to(d);
  rebind();
}

}  // namespace mtinet
