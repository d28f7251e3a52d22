// Model summaries: named MAC counts, the module tree and the memory saved for backward (eval/model_summary.h).
#include "eval/model_summary.h"

#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "core/autograd.h"
#include "core/profiler.h"

namespace mtinet {

std::vector<NamedMacs> count_named_macs(const Module& model, const std::function<void()>& forward) {
  std::vector<profiler::MacRecord> records;
  {
    profiler::ProfileGuard on(/*timing=*/false, /*macs=*/true);
    profiler::reset();
    forward();
    records = profiler::mac_records();
    profiler::reset();
  }
  std::unordered_map<const TensorImpl*, std::string> names;
  for (const StateEntry& e : model.state_entries()) names.emplace(&e.tensor.impl(), e.name);
  std::vector<NamedMacs> out;
  for (const profiler::MacRecord& r : records) {
    auto it = names.find(r.weight);
    out.push_back({it == names.end() ? "<unnamed>" : it->second, r.op, r.output, r.macs});
  }
  return out;
}

namespace {

// The module path of a state_dict name cut to at most `depth` components ("a.b.c.weight", 2 -> "a.b"); the last
// component (the tensor's own name) is never part of a module path.
std::vector<std::string> module_prefixes(const std::string& name, int max_depth) {
  std::vector<std::string> out;
  size_t pos = 0;
  for (int d = 0; d < max_depth; ++d) {
    size_t dot = name.find('.', pos);
    if (dot == std::string::npos) break;
    out.push_back(name.substr(0, dot));
    pos = dot + 1;
  }
  return out;
}

}  // namespace

std::vector<ModuleRow> module_tree(const Module& model, const std::vector<NamedMacs>& macs, int max_depth) {
  std::vector<ModuleRow> rows;
  std::map<std::string, size_t> index;
  auto row_for = [&](const std::string& prefix, int depth) -> ModuleRow& {
    auto it = index.find(prefix);
    if (it != index.end()) return rows[it->second];
    index[prefix] = rows.size();
    rows.push_back(ModuleRow{prefix, depth, 0, 0, {}});
    return rows.back();
  };
  for (const StateEntry& e : model.state_entries()) {
    std::vector<std::string> prefixes = module_prefixes(e.name, max_depth);
    for (size_t d = 0; d < prefixes.size(); ++d) {
      ModuleRow& r = row_for(prefixes[d], int(d) + 1);
      if (!e.is_buffer) r.params += e.tensor.numel();
    }
  }
  for (const NamedMacs& m : macs) {
    for (const std::string& p : module_prefixes(m.weight, max_depth)) {
      auto it = index.find(p);
      if (it == index.end()) continue;  // an unnamed weight belongs to no module
      rows[it->second].macs += m.macs;
      rows[it->second].last_output = m.output;
    }
  }
  return rows;
}

SavedBytes saved_for_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& exclude) {
  std::unordered_set<const Storage*> seen;
  for (const Tensor& t : exclude)
    if (t.defined() && t.impl().storage) seen.insert(t.impl().storage.get());
  std::unordered_set<const Node*> visited;
  std::vector<const Node*> stack;
  auto push = [&](const Tensor& t) {
    if (t.defined() && t.grad_fn() && visited.insert(t.grad_fn().get()).second) stack.push_back(t.grad_fn().get());
  };
  for (const Tensor& r : roots) push(r);
  SavedBytes result;
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    for (const Tensor& s : n->saved()) {
      if (!s.defined() || !s.impl().storage) continue;
      if (!seen.insert(s.impl().storage.get()).second) continue;
      const int64_t bytes = int64_t(s.impl().storage->bytes());
      result.total += bytes;
      result.by_op[n->op()] += bytes;
    }
    for (const Tensor& in : n->inputs()) push(in);
  }
  return result;
}

}  // namespace mtinet
