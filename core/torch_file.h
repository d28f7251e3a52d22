// Reading PyTorch's torch.save() files natively, without Python: the zip format (torch >= 1.6: <archive>/data.pkl
// plus one stored entry per storage) and the legacy format (a run of pickles followed by the raw storages).
// The pickle is read by a restricted unpickler (core/torch_pickle.cpp) that only builds plain containers, numbers,
// strings and tensors; any other global is refused by name and nothing is ever executed. Every error names the file.
#pragma once
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/safetensors.h"
#include "core/tensor.h"

namespace mtinet {

// Where a tensor's elements live before the tensor is materialised: a storage record from a persistent id.
struct TorchStorageRef {
  std::string key;       // zip: the entry <archive>/data/<key>; legacy: the key in the trailing storage list
  std::string type;      // "FloatStorage", ... as named in the file
  DType dtype = DType::F32;
  bool is_bool = false;  // BoolStorage: held as U8 (0/1), mtinet has no bool dtype
  int64_t numel = 0;     // elements the record declares
  std::string location;  // "cpu", "cuda:0": informational, everything loads to the CPU
};

// One node of the value tree a pickle describes. Nodes live in TorchFile's arena and point at each other, so a
// pickle's shared references (memo) and any nesting depth cost no recursion and no reference cycles.
struct TorchValue {
  enum class Kind : uint8_t {
    None, Bool, Int, BigInt, Float, String, Bytes, Tuple, List, Dict, Tensor, Storage, Global
  };
  Kind kind = Kind::None;
  bool boolean = false;   // Bool
  int64_t integer = 0;    // Int
  double number = 0;      // Float
  std::string text;       // String (UTF-8), Bytes, BigInt (little-endian two's complement), Global ("module.name")
  std::vector<TorchValue*> items;                            // Tuple, List
  std::vector<std::pair<TorchValue*, TorchValue*>> entries;  // Dict, in insertion order
  bool ordered = false;                                      // Dict: was a collections.OrderedDict
  TorchValue* attributes = nullptr;  // Dict: the state BUILD gave it (a state_dict's '_metadata'), else null
  // Tensor: a contiguous CPU copy in PyTorch layout once the file is read; `storage`, `storage_offset`, `sizes` and
  // `strides` say where it came from.
  Tensor tensor;
  const TorchValue* storage = nullptr;  // Tensor: its Storage node
  int64_t storage_offset = 0;
  std::vector<int64_t> sizes, strides;
  bool parameter = false;      // Tensor: rebuilt through _rebuild_parameter (an nn.Parameter)
  bool requires_grad = false;  // Tensor
  TorchStorageRef storage_ref;  // Storage

  bool is_string() const { return kind == Kind::String; }
  // Dict lookup by string key; the last match wins, as in a Python dict that saw the key twice. Null when absent.
  const TorchValue* get(const std::string& key) const;
  std::string kind_name() const;  // "dict", "tensor", ... for messages
};

struct TorchFile {
  std::string source;            // the path, for messages
  std::string format;            // "zip" or "legacy"
  std::string archive;           // zip: the archive folder name inside the zip ("model" for model/data.pkl)
  int64_t version = 0;           // zip: the 'version' record; legacy: the protocol version (1001)
  const TorchValue* root = nullptr;
  std::unique_ptr<std::deque<TorchValue>> arena = std::make_unique<std::deque<TorchValue>>();  // owns every node
};

// Reads a torch.save() file. Throws mtinet::Error naming the file for anything malformed or not allowed.
TorchFile read_torch_file(const std::string& path);
// The same for a file already in memory; `source` names it in messages (used by tests and fuzzing).
TorchFile parse_torch_file(const uint8_t* data, size_t size, const std::string& source);
// True when the bytes start like a torch.save() file (a zip archive or the legacy magic number): lets callers
// choose a reader by content, not by file extension.
bool looks_like_torch_file(const uint8_t* data, size_t size);

// The state_dict in a file: the top level when it maps names to tensors, else the first of 'model', 'state_dict',
// 'model_state_dict' that does. A 'module.' prefix shared by every name (nn.DataParallel) is removed. Tensors are
// CPU tensors in PyTorch layout (NCHW activations, OIHW weights) and named by their key; bool tensors are U8.
std::vector<std::pair<std::string, Tensor>> torch_state_dict(const TorchFile& file);
// The state_dict as the structure load_safetensors() returns, so code that takes weights files can accept .pth
// files too. Metadata: "format" = "pt", "torch_format" = "zip"/"legacy", "state_dict_key" = where it was found
// ("" for the top level), "stripped_prefix" = "module." or "".
SafetensorsContents torch_weights_contents(const TorchFile& file);
SafetensorsContents load_torch_weights(const std::string& path);

}  // namespace mtinet
