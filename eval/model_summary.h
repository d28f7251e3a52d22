// What `mtinet summary` reports about a model: multiply-accumulates per named weight (counted by the profiler while
// one forward runs), parameters and MACs aggregated over the module tree, and the memory of the activations a
// training step keeps for backward.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "layers/module.h"

namespace mtinet {

// One conv2d/linear call of a forward pass, attributed to the state_dict name of its weight.
struct NamedMacs {
  std::string weight;  // e.g. "backbone.conv1.weight"; "<unnamed>" for a weight that is not in the module
  std::string op;      // "conv2d" | "linear"
  Shape output;
  int64_t macs = 0;
};

// Runs `forward` with MAC counting on (and only that: no kernel timing) and names every conv2d/linear call by the
// module's state_dict entry holding its weight, in call order.
std::vector<NamedMacs> count_named_macs(const Module& model, const std::function<void()>& forward);

// One line of the module tree: a dotted prefix of the state_dict names (e.g. "backbone.stage2"), its depth
// (number of components), the parameters below it, the MACs of the calls whose weight is below it, and the output
// shape of the last of those calls (empty when there is none).
struct ModuleRow {
  std::string prefix;
  int depth = 0;
  int64_t params = 0;
  int64_t macs = 0;
  Shape last_output;
};

// Rows for every prefix up to max_depth, in state_dict order (a parent before its children).
std::vector<ModuleRow> module_tree(const Module& model, const std::vector<NamedMacs>& macs, int max_depth);

// The bytes of the distinct storages that the autograd graph reachable from `roots` keeps for backward, leaving out
// the storages of `exclude` (the parameters: they exist whether or not anything trains). by_op attributes each
// storage to the op of the first node found saving it (a walk from the roots towards the inputs).
struct SavedBytes {
  int64_t total = 0;
  std::map<std::string, int64_t> by_op;
};
SavedBytes saved_for_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& exclude);
inline int64_t saved_for_backward_bytes(const std::vector<Tensor>& roots, const std::vector<Tensor>& exclude) {
  return saved_for_backward(roots, exclude).total;
}

}  // namespace mtinet
