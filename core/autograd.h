// The autograd tape. Each differentiable op calls record() with its output, its inputs, the tensors its backward
// needs and the backward function; Tensor::backward() then runs the recorded nodes in reverse topological order.
//
// Saved tensors are kept as detached aliases (no grad_fn), which breaks the output->node->output cycle, and their
// storage version is remembered: if anything writes them in place before backward, backward throws.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace mtinet {

// Returns one gradient per input (an undefined Tensor where an input gets none), given the gradient of the output
// and the saved tensors in the order they were passed to record().
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_out, const std::vector<Tensor>& saved)>;

class Node {
 public:
  Node(std::string op, std::vector<Tensor> inputs, std::vector<Tensor> saved, BackwardFn fn);
  const std::string& op() const { return op_; }
  // The inputs as the graph needs them: leaves that require grad as themselves, any other input as a storage-less
  // shadow carrying its shape, dtype and grad_fn (core/autograd.cpp, graph_input). Never read their data.
  const std::vector<Tensor>& inputs() const { return inputs_; }
  // The tensors kept for backward (empty after release()); for memory accounting such as `mtinet summary`.
  const std::vector<Tensor>& saved() const { return saved_; }
  // Checks the saved tensors are untouched, then computes the input gradients.
  std::vector<Tensor> apply(const Tensor& grad_out);
  // Frees the saved tensors; a later apply() throws (backward through a freed graph needs retain_graph).
  void release();

 private:
  std::string op_;
  std::vector<Tensor> inputs_;
  std::vector<Tensor> saved_;
  std::vector<uint64_t> saved_versions_;
  BackwardFn fn_;
  bool released_ = false;
};

// Attaches a node to `out` when grad mode is on and some input requires grad; returns `out`.
Tensor record(Tensor out, const char* op, std::vector<Tensor> inputs, std::vector<Tensor> saved, BackwardFn fn);

// True unless a NoGradGuard is alive on this thread.
bool grad_enabled();

class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// Watches a Tensor::backward() pass (not grad()) on this thread while a BackwardObserverScope holds it. Data-parallel
// training uses it to start all-reducing a bucket of gradients while the rest of the pass still runs.
class BackwardObserver {
 public:
  virtual ~BackwardObserver() = default;
  // `leaf`'s gradient is final: the last node that has it as an input has run (or was skipped because no gradient
  // reached it), so no later node of this pass adds to it. Called once per leaf that requires grad and is an input
  // of some node of the graph; leaves outside the graph are never named (their gradient stays as it was).
  virtual void leaf_ready(const TensorImpl& leaf) = 0;
  // After each node's backward (and its leaf_ready calls): a point to let pending communication progress.
  virtual void node_done() {}
};

class BackwardObserverScope {
 public:
  explicit BackwardObserverScope(BackwardObserver* observer);
  ~BackwardObserverScope();
  BackwardObserverScope(const BackwardObserverScope&) = delete;
  BackwardObserverScope& operator=(const BackwardObserverScope&) = delete;

 private:
  BackwardObserver* previous_;
};

// Backpropagates grad_output from root; leaf gradients accumulate into their grad tensors.
void run_backward(const Tensor& root, const Tensor& grad_output, bool retain_graph);

// The gradients of a one-element `output` with respect to `inputs` (leaves or intermediate tensors), returned in
// the order of `inputs`, like torch.autograd.grad: nothing accumulates into any leaf's grad, and only the nodes on
// a path from output to some input run (GradNorm asks for one shared layer's gradient per task without paying for,
// or polluting, the rest of the backward pass). Every input must require grad and be reachable from output; one that
// is reachable only along paths that carry no gradient gets zeros.
std::vector<Tensor> grad(const Tensor& output, const std::vector<Tensor>& inputs, bool retain_graph);

}  // namespace mtinet
