#include "train/sharded_eval.h"

#include "train/distributed.h"

namespace mtinet {

void shard_over_ranks(EvalSettings& s) {
  if (dist::size() == 1) return;
  s.shard = dist::world().rank;
  s.shards = dist::size();
  // Counts sum exactly; the sums of doubles are added in another order than one process adds them (per rank, then
  // over the ranks), which can change their last bits.
  s.reduce = [](MetricState& state) {
    dist::allreduce_sum(state.counts);
    dist::allreduce_sum(state.sums);
  };
}

}  // namespace mtinet
