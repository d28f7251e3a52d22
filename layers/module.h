// Module: a node of the model tree holding named parameters, buffers and child modules, as PyTorch's nn.Module.
// state_dict() yields PyTorch's keys in PyTorch's order (own parameters, own buffers, then children, each in
// registration order) and PyTorch's layouts: conv weights are stored OHWI here and exported OIHW.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/safetensors.h"
#include "core/tensor.h"

namespace mtinet {

// How a tensor is laid out here versus in PyTorch's state_dict.
enum class ExportLayout { Same, ConvWeight /* OHWI here, OIHW in PyTorch */ };

struct StateEntry {
  std::string name;     // full dotted key
  Tensor tensor;        // internal layout
  ExportLayout layout;
  bool is_buffer;
};

struct LoadReport {
  std::vector<std::string> loaded, missing, unexpected, mismatched;  // mismatched: "key: file [..] vs model [..]"
  bool clean() const;  // nothing missing, unexpected or mis-shaped
  // Counts, then the first few keys of each kind.
  std::string summary() const;
};

class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Switches this module and its children between training and evaluation behaviour (BatchNorm statistics).
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Calls fn on this module and every descendant, parents first.
  void for_each_module(const std::function<void(Module&)>& fn);

  std::vector<StateEntry> state_entries(const std::string& prefix = "") const;
  std::vector<Tensor> parameters() const;  // all trainable parameters, state_dict order
  int64_t parameter_count() const;
  // PyTorch-layout copies on the host, ready for save_safetensors.
  std::vector<std::pair<std::string, Tensor>> state_dict() const;
  void save(const std::string& path, const std::map<std::string, std::string>& metadata = {}) const;
  // Copies matching entries in (converting dtype to the model's and layouts from PyTorch's). Strict: throws with
  // the counts and the first missing, unexpected and mis-shaped keys. Non-strict: loads what matches and reports
  // the rest. Either way a tensor holding NaN or Inf is refused, naming it, before anything is copied.
  LoadReport load_state_dict(const SafetensorsContents& file, bool strict = true);
  // What load_state_dict would do, without loading: `loaded` lists the entries that fit.
  LoadReport match_state_dict(const SafetensorsContents& file) const;
  // Converts every parameter and floating buffer to dtype / device in place (every Tensor handle follows).
  void to(DType dt);
  void to(Device d);

 protected:
  Tensor register_parameter(const std::string& name, Tensor t, ExportLayout layout = ExportLayout::Same);
  Tensor register_buffer(const std::string& name, Tensor t);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    children_.emplace_back(name, m);
    return m;
  }
  virtual void on_train_changed() {}

 private:
  struct Own {
    std::string name;
    Tensor tensor;
    ExportLayout layout;
  };
  std::vector<Own> params_;
  std::vector<Own> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

// A container of named children with no computation of its own, like PyTorch's nn.ModuleDict, or an nn.ModuleList
// with None entries (only the present children are registered, under their index, so the keys keep PyTorch's gaps).
class ModuleDict : public Module {
 public:
  template <class M>
  std::shared_ptr<M> add(const std::string& key, std::shared_ptr<M> m) {
    return register_module(key, std::move(m));
  }
};

}  // namespace mtinet
