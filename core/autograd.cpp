#include "core/autograd.h"

#include <unordered_map>
#include <unordered_set>

#include "kernels/elementwise.h"

namespace mtinet {

namespace {
thread_local bool g_grad_enabled = true;
}

bool grad_enabled() { return g_grad_enabled; }
NoGradGuard::NoGradGuard() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = previous_; }

Node::Node(std::string op, std::vector<Tensor> inputs, std::vector<Tensor> saved, BackwardFn fn)
    : op_(std::move(op)), inputs_(std::move(inputs)), fn_(std::move(fn)) {
  saved_.reserve(saved.size());
  for (const Tensor& t : saved) {
    saved_.push_back(t.defined() ? t.detach() : Tensor());
    saved_versions_.push_back(t.defined() ? t.version() : 0);
  }
}

std::vector<Tensor> Node::apply(const Tensor& grad_out) {
  MTINET_CHECK(!released_, "backward through '", op_,
               "' a second time: its saved tensors were freed; pass retain_graph=true to the first backward");
  for (size_t i = 0; i < saved_.size(); ++i) {
    if (!saved_[i].defined()) continue;
    MTINET_CHECK(saved_[i].version() == saved_versions_[i], "a tensor saved for the backward of '", op_,
                 "' (saved tensor ", i, ", ", saved_[i].describe(), ") was modified in place after the forward pass");
  }
  std::vector<Tensor> grads = fn_(grad_out, saved_);
  MTINET_CHECK(grads.size() == inputs_.size(), "backward of '", op_, "' returned ", grads.size(), " gradients for ",
               inputs_.size(), " inputs");
  return grads;
}

void Node::release() {
  saved_.clear();
  released_ = true;
}

Tensor record(Tensor out, const char* op, std::vector<Tensor> inputs, std::vector<Tensor> saved, BackwardFn fn) {
  if (!g_grad_enabled) return out;
  bool any = false;
  for (const Tensor& t : inputs) any = any || (t.defined() && t.requires_grad());
  if (!any) return out;
  out.impl().requires_grad = true;
  out.impl().grad_fn = std::make_shared<Node>(op, std::move(inputs), std::move(saved), std::move(fn));
  return out;
}

namespace {

// Nodes reachable from `root`, ordered so that every node comes before the nodes that produced its inputs.
std::vector<Node*> reverse_topological_order(Node* root) {
  std::vector<Node*> post_order;
  std::unordered_set<Node*> visited;
  // Iterative DFS: the graph of a full MTI-Net is thousands of nodes deep in places.
  std::vector<std::pair<Node*, size_t>> stack{{root, 0}};
  visited.insert(root);
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->inputs().size()) {
      const Tensor& in = node->inputs()[next++];
      if (in.defined() && in.grad_fn() && !visited.count(in.grad_fn().get())) {
        visited.insert(in.grad_fn().get());
        stack.push_back({in.grad_fn().get(), 0});
      }
    } else {
      post_order.push_back(node);
      stack.pop_back();
    }
  }
  return std::vector<Node*>(post_order.rbegin(), post_order.rend());
}

void accumulate_leaf(const Tensor& leaf, const Tensor& g) {
  TensorImpl& impl = leaf.impl();
  if (impl.grad) {
    Tensor acc(impl.grad);
    kernels::add_inplace(acc, g);
  } else {
    impl.grad = g.clone().impl_ptr();
  }
}

}  // namespace

void run_backward(const Tensor& root, const Tensor& grad_output, bool retain_graph) {
  MTINET_CHECK(root.requires_grad(), "backward on ", root.describe(), ", which does not require grad");
  MTINET_CHECK(grad_output.shape() == root.shape() && grad_output.dtype() == root.dtype(),
               "backward: gradient ", grad_output.describe(), " does not match ", root.describe());
  NoGradGuard no_grad;
  if (!root.grad_fn()) {
    accumulate_leaf(root, grad_output);
    return;
  }
  std::unordered_map<Node*, Tensor> grads;
  grads[root.grad_fn().get()] = grad_output;
  for (Node* node : reverse_topological_order(root.grad_fn().get())) {
    auto it = grads.find(node);
    if (it == grads.end()) continue;  // no gradient flows here
    Tensor g = it->second;
    grads.erase(it);
    std::vector<Tensor> in_grads = node->apply(g);
    if (!retain_graph) node->release();
    for (size_t i = 0; i < in_grads.size(); ++i) {
      const Tensor& in = node->inputs()[i];
      const Tensor& gi = in_grads[i];
      if (!gi.defined() || !in.defined() || !in.requires_grad()) continue;
      MTINET_CHECK(gi.shape() == in.shape(), "backward of '", node->op(), "' produced gradient ", gi.describe(),
                   " for input ", in.describe());
      if (!in.grad_fn()) {
        accumulate_leaf(in, gi);
        continue;
      }
      auto [slot, inserted] = grads.try_emplace(in.grad_fn().get(), gi);
      if (!inserted) {
        // Accumulate out of place: gi may alias a tensor another node still holds.
        Tensor sum = slot->second.clone();
        kernels::add_inplace(sum, gi);
        slot->second = sum;
      }
    }
  }
}

}  // namespace mtinet
