// The Feature Propagation Module (FPM) of MTI-Net (docs/architecture.md; the two readings of its mask: "The FPM
// grouping question"): passes the task features of one scale, mixed across tasks, to the next finer scale's initial
// task prediction.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/rng.h"
#include "layers/attention.h"
#include "layers/blocks.h"

namespace mtinet {

// How the FPM's softmax mask groups the N*C channels of the task-major concatenation (channel n*C + c is task n's
// channel c).
enum class FpmGrouping {
  AdjacentChannels,  // the reference code: view (C, N) + softmax over N = groups of N adjacent channels (default)
  AcrossTasks,       // the paper's reading: softmax over the N tasks' copies of the same channel c
};

// Feature Propagation Module: a shared representation of all tasks' features, gated by a softmax mask (see
// FpmGrouping), reduced to C channels, then re-weighted per task by a squeeze-and-excitation block and added to
// that task's features.
class FeaturePropagation : public Module {
 public:
  FeaturePropagation(const std::vector<std::string>& auxiliary, int64_t channels, Rng& rng,
                     FpmGrouping grouping = FpmGrouping::AdjacentChannels);
  std::map<std::string, Tensor> forward(const std::map<std::string, Tensor>& features);

 private:
  FpmGrouping grouping_;
  std::vector<std::string> tasks_;
  std::shared_ptr<Sequential> non_linear_;
  std::shared_ptr<BasicBlock> dimensionality_reduction_;
  std::map<std::string, std::shared_ptr<SEBlock>> se_;
};

}  // namespace mtinet
