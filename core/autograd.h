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

// Backpropagates grad_output from root; leaf gradients accumulate into their grad tensors.
void run_backward(const Tensor& root, const Tensor& grad_output, bool retain_graph);

// The gradients of a one-element `output` with respect to `inputs` (leaves or intermediate tensors), returned in
// the order of `inputs`, like torch.autograd.grad: nothing accumulates into any leaf's grad, and only the nodes on
// a path from output to some input run (GradNorm asks for one shared layer's gradient per task without paying for,
// or polluting, the rest of the backward pass). Every input must require grad and be reachable from output; one that
// is reachable only along paths that carry no gradient gets zeros.
std::vector<Tensor> grad(const Tensor& output, const std::vector<Tensor>& inputs, bool retain_graph);

}  // namespace mtinet
