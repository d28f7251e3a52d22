// The data-parallel gradient sum overlapped with the backward pass, as PyTorch's DDP does it: the flat gradient buffer
// is cut into buckets of about `bucket_bytes` (the first one 1 MiB at most) in reverse parameter order (backward
// finishes the last layers' gradients first), and a bucket's all-reduce starts (dist::allreduce_sum_start) as soon as backward has finished every gradient
// in it (core/autograd.h's BackwardObserver says when). The optimiser step then waits for all of them (wait()).
//
// The sums are the very additions of the blocking path (dist::allreduce_sum after backward): each element is summed
// over the same ranks' values; only the cut into messages differs. With 2 ranks that is a + b either way, so both
// paths give the same bits (tests/mpi/overlap.sh checks it); with more ranks MPI may associate the sum differently for
// other message sizes, as it may between any two bucket sizes of the blocking path.
//
// Buckets start in their index order on every rank (a ready bucket waits for the ones before it), since MPI
// collectives must be started in the same order everywhere, whatever order a rank's graph finishes gradients in.
#pragma once
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "core/autograd.h"
#include "core/parameter_set.h"

namespace mtinet {

class OverlappedGradientSum : private BackwardObserver {
 public:
  OverlappedGradientSum(const ParameterSet& params, int64_t bucket_bytes);

  // Runs loss.backward() into the flat gradient buffer, starting each bucket's all-reduce once it is final. When
  // `addend` is defined (a buffer shaped like the flat gradients: the earlier micro-batches' summed gradients under
  // grad_accumulation) it is added to each bucket just before the bucket is sent, so that what is summed over the
  // ranks is this rank's whole step, as on the blocking path.
  void backward(const Tensor& loss, const Tensor& addend = Tensor());
  // Waits until every bucket has been summed over the ranks: the flat gradient buffer holds the sum.
  void wait();

  struct Bucket {
    int64_t begin = 0, end = 0;  // elements of the flat buffer
  };
  const std::vector<Bucket>& buckets() const { return buckets_; }
  // How much the last backward pass overlapped: how many nodes it ran, and after how many of them each bucket
  // started (the first layers' bucket starts with the last node, a bucket of unreached parameters after it).
  int64_t backward_nodes() const { return nodes_; }
  const std::vector<int64_t>& bucket_start_nodes() const { return started_at_; }
  // The buckets that started while backward still had nodes to run.
  int64_t started_before_last_node() const;

 private:
  void leaf_ready(const TensorImpl& leaf) override;
  void node_done() override;
  void start_ready_buckets();  // in index order, each one whose gradients are all final

  const ParameterSet& params_;
  std::vector<Bucket> buckets_;
  std::unordered_map<const TensorImpl*, size_t> bucket_of_;  // parameter -> its bucket
  std::vector<int64_t> pending_;  // per bucket: parameters whose gradient is not final yet
  size_t next_ = 0;               // the first bucket not started
  Tensor addend_;
  int64_t nodes_ = 0;               // nodes done in the current (or last) backward pass
  std::vector<int64_t> started_at_;  // per bucket: nodes_ when it started
};

}  // namespace mtinet
