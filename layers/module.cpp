#include "layers/module.h"

#include <set>
#include <sstream>

#include "core/finite_check.h"
#include "core/layout.h"

namespace mtinet {

namespace {
Tensor to_export_layout(const Tensor& t, ExportLayout layout) {
  Tensor h = t.to(Device::CPU);
  return layout == ExportLayout::ConvWeight ? ohwi_to_oihw(h) : h.clone();
}
Tensor from_export_layout(const Tensor& t, ExportLayout layout) {
  return layout == ExportLayout::ConvWeight ? oihw_to_ohwi(t) : t;
}
Shape export_shape(const Tensor& t, ExportLayout layout) {
  const Shape& s = t.shape();
  return layout == ExportLayout::ConvWeight ? Shape{s[0], s[3], s[1], s[2]} : s;
}
// Points an existing TensorImpl at new data, so that every handle to it sees the change.
void rebind(const Tensor& handle, const Tensor& data) {
  TensorImpl& impl = handle.impl();
  impl.storage = data.impl().storage;
  impl.offset = data.impl().offset;
  impl.dtype = data.dtype();
  impl.grad.reset();
}
}  // namespace

bool LoadReport::clean() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }

std::string LoadReport::summary() const {
  std::ostringstream os;
  os << loaded.size() << " match, " << missing.size() << " missing, " << unexpected.size() << " unexpected, "
     << mismatched.size() << " mis-shaped";
  // A file for another model differs in hundreds of keys; the first few of each kind tell what is wrong, all of
  // them bury the message.
  const size_t shown = 4;
  auto list = [&](const char* what, const std::vector<std::string>& v) {
    if (v.empty()) return;
    os << "\n  " << what << (v.size() > shown ? " (the first " + std::to_string(shown) + ")" : "") << ":";
    for (size_t i = 0; i < v.size() && i < shown; ++i) os << "\n    " << v[i];
    if (v.size() > shown) os << "\n    ... and " << v.size() - shown << " more";
  };
  list("missing", missing);
  list("unexpected", unexpected);
  list("mis-shaped", mismatched);
  return os.str();
}

void Module::train(bool on) {
  training_ = on;
  on_train_changed();
  for (auto& [name, child] : children_) child->train(on);
}

void Module::for_each_module(const std::function<void(Module&)>& fn) {
  fn(*this);
  for (auto& [name, child] : children_) child->for_each_module(fn);
}

Tensor Module::register_parameter(const std::string& name, Tensor t, ExportLayout layout) {
  t.set_requires_grad(true);
  params_.push_back({name, t, layout});
  return params_.back().tensor;
}

Tensor Module::register_buffer(const std::string& name, Tensor t) {
  buffers_.push_back({name, t, ExportLayout::Same});
  return buffers_.back().tensor;
}

std::vector<StateEntry> Module::state_entries(const std::string& prefix) const {
  std::vector<StateEntry> out;
  for (const Own& p : params_) out.push_back({prefix + p.name, p.tensor, p.layout, false});
  for (const Own& b : buffers_) out.push_back({prefix + b.name, b.tensor, b.layout, true});
  for (const auto& [name, child] : children_) {
    std::vector<StateEntry> sub = child->state_entries(prefix + name + ".");
    out.insert(out.end(), sub.begin(), sub.end());
  }
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (const StateEntry& e : state_entries()) if (!e.is_buffer) out.push_back(e.tensor);
  return out;
}

int64_t Module::parameter_count() const {
  int64_t n = 0;
  for (const Tensor& p : parameters()) n += p.numel();
  return n;
}

std::vector<std::pair<std::string, Tensor>> Module::state_dict() const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const StateEntry& e : state_entries()) out.emplace_back(e.name, to_export_layout(e.tensor, e.layout));
  return out;
}

void Module::save(const std::string& path, const std::map<std::string, std::string>& metadata) const {
  save_safetensors(path, state_dict(), metadata);
}

LoadReport Module::match_state_dict(const SafetensorsContents& file) const {
  LoadReport report;
  std::set<std::string> known;
  for (const StateEntry& e : state_entries()) {
    known.insert(e.name);
    if (!file.contains(e.name)) {
      report.missing.push_back(e.name);
      continue;
    }
    const Tensor& src = file.at(e.name);
    Shape want = export_shape(e.tensor, e.layout);
    bool dtype_ok = is_floating(src.dtype()) == is_floating(e.tensor.dtype());
    if (src.shape() != want || !dtype_ok) {
      report.mismatched.push_back(e.name + ": file " + dtype_name(src.dtype()) + " " + shape_str(src.shape()) +
                                  " vs model " + dtype_name(e.tensor.dtype()) + " " + shape_str(want));
      continue;
    }
    report.loaded.push_back(e.name);
  }
  for (const auto& [name, t] : file.tensors)
    if (!known.count(name)) report.unexpected.push_back(name);
  return report;
}

LoadReport Module::load_state_dict(const SafetensorsContents& file, bool strict) {
  LoadReport report = match_state_dict(file);
  std::set<std::string> fits(report.loaded.begin(), report.loaded.end());
  report.loaded.clear();
  std::vector<std::pair<const StateEntry*, const Tensor*>> to_load;
  std::vector<StateEntry> entries = state_entries();
  for (const StateEntry& e : entries)
    if (fits.count(e.name)) to_load.emplace_back(&e, &file.at(e.name));
  if (strict && !report.clean()) MTINET_FAIL("loading '", file.source, "' strictly failed: ", report.summary());
  // Checked before anything is copied, so a refused file leaves the model as it was.
  std::vector<std::pair<std::string, Tensor>> sources;
  for (const auto& [e, src] : to_load) sources.emplace_back(e->name, *src);
  if (std::optional<NonFiniteTensor> bad = find_non_finite(sources))
    MTINET_FAIL("'", file.source, "': tensor ", bad->describe(), "; refusing weights that would make the model's "
                "outputs NaN (was the run that wrote them diverging?)");
  for (const auto& [e, src] : to_load) {
    Tensor converted = from_export_layout(*src, e->layout).to(e->tensor.dtype()).to(e->tensor.device());
    e->tensor.copy_from(converted);
    report.loaded.push_back(e->name);
  }
  return report;
}

void Module::to(DType dt) {
  for (const StateEntry& e : state_entries())
    if (is_floating(e.tensor.dtype())) rebind(e.tensor, e.tensor.to(dt));
}

void Module::to(Device d) {
  // Integer buffers (num_batches_tracked) are host-side counters and stay on the CPU.
  for (const StateEntry& e : state_entries())
    if (is_floating(e.tensor.dtype())) rebind(e.tensor, e.tensor.to(d));
}

}  // namespace mtinet
