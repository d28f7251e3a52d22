#include "train/overlapped_gradient_sum.h"

#include <algorithm>

#include "kernels/elementwise/elementwise.h"
#include "train/distributed.h"

namespace mtinet {

OverlappedGradientSum::OverlappedGradientSum(const ParameterSet& params, int64_t bucket_bytes) : params_(params) {
  MTINET_CHECK(bucket_bytes > 0, "gradient buckets: the bucket size must be positive, got ", bucket_bytes, " bytes");
  const std::vector<Tensor>& p = params.params();
  const std::vector<int64_t>& offsets = params.offsets();
  if (p.empty()) return;
  int64_t esize = int64_t(dtype_size(params.flat_grads().dtype()));
  // From the last parameter back: a bucket closes once it holds bucket_bytes (a larger parameter is a bucket alone).
  // The first closes at 1 MiB already, as DDP's does: the last layers' gradients are final after a small part of
  // backward, and a small bucket of them starts the communication early instead of waiting for 25 MiB.
  const int64_t first_bucket_bytes = std::min<int64_t>(bucket_bytes, int64_t(1) << 20);
  Bucket open{offsets.back() + p.back().numel(), offsets.back() + p.back().numel()};
  for (size_t i = p.size(); i-- > 0;) {
    open.begin = offsets[i];
    bucket_of_[&p[i].impl()] = buckets_.size();
    int64_t cap = buckets_.empty() ? first_bucket_bytes : bucket_bytes;
    if ((open.end - open.begin) * esize >= cap || i == 0) {
      buckets_.push_back(open);
      open = Bucket{open.begin, open.begin};
    }
  }
  pending_.assign(buckets_.size(), 0);
}

void OverlappedGradientSum::backward(const Tensor& loss, const Tensor& addend) {
  MTINET_CHECK(!addend.defined() || addend.shape() == params_.flat_grads().shape(), "gradient buckets: the addend ",
               addend.describe(), " is not shaped like the flat gradients ", params_.flat_grads().describe());
  addend_ = addend;
  next_ = 0;
  nodes_ = 0;
  started_at_.assign(buckets_.size(), 0);
  pending_.assign(buckets_.size(), 0);
  for (const auto& [impl, b] : bucket_of_) ++pending_[b];
  {
    BackwardObserverScope watch(this);
    loss.backward();
  }
  // Parameters the loss does not reach were never named by backward: their (zeroed) gradients were final all along.
  std::fill(pending_.begin(), pending_.end(), 0);
  start_ready_buckets();
  addend_ = Tensor();
}

void OverlappedGradientSum::wait() { dist::allreduce_wait_all(); }

void OverlappedGradientSum::leaf_ready(const TensorImpl& leaf) {
  auto it = bucket_of_.find(&leaf);
  if (it == bucket_of_.end()) return;  // a leaf that is no parameter of the set
  if (--pending_[it->second] == 0) start_ready_buckets();
}

void OverlappedGradientSum::node_done() {
  ++nodes_;
  dist::allreduce_progress();
}

int64_t OverlappedGradientSum::started_before_last_node() const {
  int64_t n = 0;
  for (int64_t at : started_at_) n += at < nodes_ - 1 ? 1 : 0;
  return n;
}

void OverlappedGradientSum::start_ready_buckets() {
  for (; next_ < buckets_.size() && pending_[next_] == 0; ++next_) {
    const Bucket& b = buckets_[next_];
    started_at_[next_] = nodes_;
    Tensor slice = Tensor::view_of(params_.flat_grads(), b.begin, {b.end - b.begin});
    if (addend_.defined()) kernels::add_inplace(slice, Tensor::view_of(addend_, b.begin, {b.end - b.begin}));
    dist::allreduce_sum_start(slice);
  }
}

}  // namespace mtinet
