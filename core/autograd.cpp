#include "core/autograd.h"

#include <unordered_map>
#include <unordered_set>

#include "kernels/elementwise/elementwise.h"

namespace mtinet {

namespace {
thread_local bool g_grad_enabled = true;
thread_local BackwardObserver* g_observer = nullptr;
}

bool grad_enabled() { return g_grad_enabled; }
NoGradGuard::NoGradGuard() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = previous_; }
BackwardObserverScope::BackwardObserverScope(BackwardObserver* observer) : previous_(g_observer) {
  g_observer = observer;
}
BackwardObserverScope::~BackwardObserverScope() { g_observer = previous_; }

namespace {

// An empty storage on `device`, shared by every graph_input() shadow there (so a shadow still names its device).
// Zero bytes: neither allocates, so the CUDA one needs no GPU (nor a CUDA build).
const std::shared_ptr<Storage>& empty_storage(Device device) {
  static const std::shared_ptr<Storage> cpu = std::make_shared<Storage>(0, Device::CPU);
  static const std::shared_ptr<Storage> cuda = std::make_shared<Storage>(0, Device::CUDA);
  return device == Device::CPU ? cpu : cuda;
}

// What a node keeps of one input. A leaf that requires grad is kept itself: its gradient accumulates into it and
// grad() finds it by identity. Any other input becomes a shadow: its shape, dtype, name, requires_grad and grad_fn
// over an empty storage. The graph only needs the link to the producing node, and backward reads only the saved
// tensors; keeping the inputs themselves kept every intermediate tensor of the forward pass alive until the graph
// died (7.8 GiB after a batch-8 480x640 forward pass, against 4.6 GiB saved for backward).
Tensor graph_input(const Tensor& t) {
  if (!t.defined() || (!t.grad_fn() && t.requires_grad())) return t;
  auto shadow = std::make_shared<TensorImpl>();
  shadow->storage = empty_storage(t.device());
  shadow->shape = t.shape();
  shadow->dtype = t.dtype();
  shadow->requires_grad = t.requires_grad();
  shadow->grad_fn = t.grad_fn();
  shadow->name = t.name();
  return Tensor(std::move(shadow));
}

std::vector<Tensor> graph_inputs(const std::vector<Tensor>& inputs) {
  std::vector<Tensor> out;
  out.reserve(inputs.size());
  for (const Tensor& t : inputs) out.push_back(graph_input(t));
  return out;
}

}  // namespace

Node::Node(std::string op, std::vector<Tensor> inputs, std::vector<Tensor> saved, BackwardFn fn)
    : op_(std::move(op)), inputs_(graph_inputs(inputs)), fn_(std::move(fn)) {
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

// True when nothing but `t` refers to its memory: no other Tensor copy, and no view of the same storage.
bool sole_owner(const Tensor& t) { return t.impl_ptr().use_count() == 1 && t.impl().storage.use_count() == 1; }

// Adds g into the gradient slot `slot`. In place when the slot is the only holder of its memory (the usual case: a
// gradient one backward just made, which a second consumer's gradient now joins), so a tensor used by several ops
// (HRNet's branch outputs feed every fuse layer) costs no copy per extra consumer. Out of place otherwise: the slot
// may alias a tensor another node still holds (an add's backward hands the same gradient to both inputs). The sum is
// the same either way, bit for bit.
void accumulate_into(Tensor& slot, const Tensor& g) {
  if (!slot.defined()) {
    slot = g;
    return;
  }
  if (sole_owner(slot)) {
    kernels::add_inplace(slot, g);
    return;
  }
  Tensor sum = slot.clone();
  kernels::add_inplace(sum, g);
  slot = sum;
}

// Which tensors a backward pass delivers gradients to. Tensor::backward() accumulates into every leaf that requires
// grad; grad() captures the gradients of the requested tensors and runs only the nodes that lead to them.
class GradTargets {
 public:
  // Accumulate into every leaf.
  GradTargets() = default;
  // Capture for `inputs` only; `order` is the graph's nodes below root, consumers before producers.
  GradTargets(const Tensor& root, const std::vector<Tensor>& inputs, const std::vector<Node*>& order)
      : capture_(true) {
    captured_.resize(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (inputs[i].grad_fn()) {
        node_index_[inputs[i].grad_fn().get()].push_back(i);
      } else {
        leaf_index_[&inputs[i].impl()].push_back(i);
      }
    }
    // Producers before consumers: a node must run when one of its inputs is a requested leaf or comes from a node
    // whose output gradient is wanted; a node's output gradient is wanted when it runs or its output is requested.
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
      Node* node = *it;
      bool run = false;
      for (const Tensor& in : node->inputs()) {
        if (!in.defined()) continue;
        run = run || (in.grad_fn() ? wanted_.count(in.grad_fn().get()) > 0 : leaf_index_.count(&in.impl()) > 0);
      }
      if (run) runs_.insert(node);
      if (run || node_index_.count(node)) wanted_.insert(node);
    }
    // An input is in the graph when it is the root, an input of a node below it, or the output of one.
    std::unordered_set<const TensorImpl*> in_graph{&root.impl()};
    std::unordered_set<const Node*> nodes(order.begin(), order.end());
    for (const Node* node : order) {
      for (const Tensor& in : node->inputs()) {
        if (in.defined()) in_graph.insert(&in.impl());
      }
    }
    for (const Tensor& in : inputs) {
      bool is_node_output = in.grad_fn() && nodes.count(in.grad_fn().get()) > 0;
      in_graph_.push_back(in_graph.count(&in.impl()) > 0 || is_node_output);
    }
  }

  bool node_runs(Node* node) const { return !capture_ || runs_.count(node) > 0; }
  bool node_wanted(Node* node) const { return !capture_ || wanted_.count(node) > 0; }

  // The complete gradient of `node`'s output has been summed up.
  void node_gradient(Node* node, const Tensor& g) {
    auto it = node_index_.find(node);
    if (it != node_index_.end()) capture(it->second, g);
  }
  // A gradient reaches the leaf `leaf`.
  void leaf_gradient(const Tensor& leaf, const Tensor& g) {
    if (!capture_) {
      accumulate_leaf(leaf, g);
      return;
    }
    auto it = leaf_index_.find(&leaf.impl());
    if (it != leaf_index_.end()) capture(it->second, g);
  }
  const std::vector<Tensor>& captured() const { return captured_; }
  bool in_graph(size_t input) const { return in_graph_[input]; }

 private:
  // The caller owns what grad() returns: copy rather than hand out a tensor that may alias the graph's.
  void capture(const std::vector<size_t>& indices, const Tensor& g) {
    for (size_t i : indices) {
      if (captured_[i].defined()) {
        kernels::add_inplace(captured_[i], g);
      } else {
        captured_[i] = g.clone();
      }
    }
  }

  bool capture_ = false;
  std::unordered_map<const TensorImpl*, std::vector<size_t>> leaf_index_;
  std::unordered_map<Node*, std::vector<size_t>> node_index_;
  std::unordered_set<Node*> runs_, wanted_;
  std::vector<bool> in_graph_;
  std::vector<Tensor> captured_;
};

// For each position of `order`, the leaves (requiring grad) whose last consumer sits there: once that node is done,
// nothing later in the pass adds to them. A leaf can only receive gradient from the nodes it is an input of, so this
// is exact, with no per-leaf counting at run time.
std::vector<std::vector<const TensorImpl*>> leaves_final_after(const std::vector<Node*>& order) {
  std::unordered_map<const TensorImpl*, size_t> last;
  for (size_t j = 0; j < order.size(); ++j) {
    for (const Tensor& in : order[j]->inputs())
      if (in.defined() && !in.grad_fn() && in.requires_grad()) last[&in.impl()] = j;
  }
  // Listed in the graph's order (not the map's, which follows addresses), so every process names them alike.
  std::vector<std::vector<const TensorImpl*>> out(order.size());
  for (size_t j = 0; j < order.size(); ++j) {
    for (const Tensor& in : order[j]->inputs()) {
      if (!in.defined() || in.grad_fn() || !in.requires_grad()) continue;
      auto it = last.find(&in.impl());
      if (it == last.end() || it->second != j) continue;
      out[j].push_back(it->first);
      last.erase(it);  // a node may take the same leaf twice
    }
  }
  return out;
}

void backpropagate(const Tensor& root, const Tensor& grad_output, bool retain_graph,
                   const std::vector<Node*>& order, GradTargets& targets, BackwardObserver* observer = nullptr) {
  NoGradGuard no_grad;
  if (!root.grad_fn()) {
    targets.leaf_gradient(root, grad_output);
    return;
  }
  std::vector<std::vector<const TensorImpl*>> final_after;
  if (observer) final_after = leaves_final_after(order);
  auto node_finished = [&](size_t j) {
    if (!observer) return;
    for (const TensorImpl* leaf : final_after[j]) observer->leaf_ready(*leaf);
    observer->node_done();
  };
  std::unordered_map<Node*, Tensor> grads;
  grads[root.grad_fn().get()] = grad_output;
  for (size_t j = 0; j < order.size(); ++j) {
    Node* node = order[j];
    auto it = grads.find(node);
    if (it == grads.end()) {  // no gradient flows here
      node_finished(j);
      continue;
    }
    Tensor g = it->second;
    grads.erase(it);
    targets.node_gradient(node, g);
    if (!targets.node_runs(node)) {
      node_finished(j);
      continue;
    }
    std::vector<Tensor> in_grads = node->apply(g);
    if (!retain_graph) node->release();
    for (size_t i = 0; i < in_grads.size(); ++i) {
      const Tensor& in = node->inputs()[i];
      const Tensor& gi = in_grads[i];
      if (!gi.defined() || !in.defined() || !in.requires_grad()) continue;
      MTINET_CHECK(gi.shape() == in.shape(), "backward of '", node->op(), "' produced gradient ", gi.describe(),
                   " for input ", in.describe());
      if (!in.grad_fn()) {
        targets.leaf_gradient(in, gi);
      } else if (targets.node_wanted(in.grad_fn().get())) {
        accumulate_into(grads[in.grad_fn().get()], gi);
      }
    }
    node_finished(j);
  }
}

}  // namespace

void run_backward(const Tensor& root, const Tensor& grad_output, bool retain_graph) {
  MTINET_CHECK(root.requires_grad(), "backward on ", root.describe(), ", which does not require grad");
  MTINET_CHECK(grad_output.shape() == root.shape() && grad_output.dtype() == root.dtype(),
               "backward: gradient ", grad_output.describe(), " does not match ", root.describe());
  GradTargets every_leaf;
  std::vector<Node*> order;
  if (root.grad_fn()) order = reverse_topological_order(root.grad_fn().get());
  backpropagate(root, grad_output, retain_graph, order, every_leaf, g_observer);
}

std::vector<Tensor> grad(const Tensor& output, const std::vector<Tensor>& inputs, bool retain_graph) {
  MTINET_CHECK(output.numel() == 1, "grad: output ", output.describe(), " must have one element");
  MTINET_CHECK(output.requires_grad(), "grad: output ", output.describe(), " does not require grad");
  for (size_t i = 0; i < inputs.size(); ++i) {
    MTINET_CHECK(inputs[i].defined(), "grad: input ", i, " is undefined");
    MTINET_CHECK(inputs[i].requires_grad(), "grad: input ", i, " (", inputs[i].describe(),
                 ") does not require grad");
  }
  std::vector<Node*> order;
  if (output.grad_fn()) order = reverse_topological_order(output.grad_fn().get());
  GradTargets requested(output, inputs, order);
  // Checked before running anything, so a failed call leaves the graph usable.
  for (size_t i = 0; i < inputs.size(); ++i) {
    MTINET_CHECK(requested.in_graph(i), "grad: input ", i, " (", inputs[i].describe(), ") is not reachable from ",
                 output.describe());
  }
  backpropagate(output, Tensor::full(output.shape(), 1.0, output.dtype(), output.device()), retain_graph, order,
                requested);
  std::vector<Tensor> result = requested.captured();
  for (size_t i = 0; i < inputs.size(); ++i) {
    // In the graph, but every path to it carried no gradient (e.g. through a non-differentiable input).
    if (!result[i].defined()) result[i] = Tensor::zeros(inputs[i].shape(), inputs[i].dtype(), inputs[i].device());
  }
  return result;
}

}  // namespace mtinet
