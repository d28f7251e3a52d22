// Evaluation split over the ranks of a data-parallel world (train/distributed.h): each rank evaluates its share of
// the split's batches and the metric accumulators are summed over the ranks (eval/evaluate.h's EvalSettings shard),
// so every rank -- rank 0 prints and logs -- gets the metrics one process gets. Every rank must then run the same
// evaluations in the same order: the reduction is a collective.
#pragma once
#include "eval/evaluate.h"

namespace mtinet {

// Makes `s` evaluate this rank's shard and sum over the world; leaves it unchanged in a world of one.
void shard_over_ranks(EvalSettings& s);

}  // namespace mtinet
