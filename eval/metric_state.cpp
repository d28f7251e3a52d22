#include "eval/metric.h"

#include "core/error.h"

namespace mtinet {

void MetricState::add(const MetricState& other) {
  MTINET_CHECK(counts.size() == other.counts.size() && sums.size() == other.sums.size(), "metric state: adding ",
               other.counts.size(), " counts and ", other.sums.size(), " sums to ", counts.size(), " and ",
               sums.size(), ": the states come from different metrics");
  for (size_t i = 0; i < counts.size(); ++i) counts[i] += other.counts[i];
  for (size_t i = 0; i < sums.size(); ++i) sums[i] += other.sums[i];
}

void MetricState::check_size(const char* metric, size_t n_counts, size_t n_sums) const {
  MTINET_CHECK(counts.size() == n_counts && sums.size() == n_sums, metric, ": a state of ", counts.size(),
               " counts and ", sums.size(), " sums, expected ", n_counts, " and ", n_sums,
               " (a state of another metric, or other settings)");
}

}  // namespace mtinet
