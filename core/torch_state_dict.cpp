// Finding the state_dict in a torch.save() file: a bare state_dict (torch.save(model.state_dict())), a training
// checkpoint that holds it under 'model' / 'state_dict' / 'model_state_dict', or either written from
// nn.DataParallel, whose parameter names all start with 'module.'.
#include <set>

#include "core/torch_file.h"

namespace mtinet {

namespace {

using Kind = TorchValue::Kind;

const char* const kStateDictKeys[] = {"model", "state_dict", "model_state_dict"};
const std::string kDataParallelPrefix = "module.";

template <class... Parts>
[[noreturn]] void fail(const std::string& source, const Parts&... parts) {
  throw Error(detail::concat("torch file '", source, "': ", parts...));
}

// Why `v` is not a state_dict (names mapped to tensors), or "" when it is one.
std::string not_a_state_dict(const TorchValue* v) {
  if (v->kind != Kind::Dict) return "is a " + v->kind_name();
  if (v->entries.empty()) return "is an empty dict";
  for (const auto& [k, val] : v->entries) {
    if (k->kind != Kind::String) return "has a key that is a " + k->kind_name();
    if (val->kind != Kind::Tensor) return "maps '" + k->text + "' to a " + val->kind_name();
  }
  return "";
}

// The keys of a dict as "'a' (dict), 'b' (int)", the first few, for messages.
std::string describe_keys(const TorchValue* v) {
  std::string out;
  size_t n = 0;
  for (const auto& [k, val] : v->entries) {
    if (n++ == 8) return out + ", ...";
    out += (out.empty() ? "" : ", ") + (k->kind == Kind::String ? "'" + k->text + "'" : k->kind_name()) + " (" +
           val->kind_name() + ")";
  }
  return out;
}

struct Found {
  const TorchValue* dict;
  std::string key;  // "" for the top level
};

Found find_state_dict(const TorchFile& f) {
  std::string why = not_a_state_dict(f.root);
  if (why.empty()) return {f.root, ""};
  if (f.root->kind != Kind::Dict) fail(f.source, "no state_dict: the file holds a ", f.root->kind_name());
  std::string reasons;
  for (const char* key : kStateDictKeys) {
    const TorchValue* v = f.root->get(key);
    if (!v) continue;
    std::string inner = not_a_state_dict(v);
    if (inner.empty()) return {v, key};
    reasons += detail::concat("; '", key, "' ", inner);
  }
  fail(f.source, "no state_dict: the top level ", why, reasons, " (top-level keys: ", describe_keys(f.root),
       "; a state_dict is looked for at the top level and under 'model', 'state_dict', 'model_state_dict')");
}

}  // namespace

std::vector<std::pair<std::string, Tensor>> torch_state_dict(const TorchFile& file) {
  MTINET_CHECK(file.root != nullptr, "torch_state_dict: the TorchFile was not read");
  Found found = find_state_dict(file);
  bool strip = true;
  for (const auto& [k, v] : found.dict->entries) strip &= k->text.rfind(kDataParallelPrefix, 0) == 0;
  std::vector<std::pair<std::string, Tensor>> out;
  std::set<std::string> seen;
  for (const auto& [k, v] : found.dict->entries) {
    std::string name = strip ? k->text.substr(kDataParallelPrefix.size()) : k->text;
    if (!seen.insert(name).second) fail(file.source, "the state_dict holds '", name, "' twice");
    Tensor t = v->tensor;
    if (t.name().empty()) t.set_name(name);
    out.emplace_back(std::move(name), t);
  }
  return out;
}

SafetensorsContents torch_weights_contents(const TorchFile& file) {
  SafetensorsContents c;
  c.source = file.source;
  c.tensors = torch_state_dict(file);
  Found found = find_state_dict(file);
  bool stripped = !c.tensors.empty() && found.dict->entries.front().first->text != c.tensors.front().first;
  c.metadata = {{"format", "pt"},
                {"torch_format", file.format},
                {"state_dict_key", found.key},
                {"stripped_prefix", stripped ? kDataParallelPrefix : ""}};
  return c;
}

SafetensorsContents load_torch_weights(const std::string& path) {
  return torch_weights_contents(read_torch_file(path));
}

}  // namespace mtinet
