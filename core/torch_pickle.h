// The restricted unpickler behind read_torch_file(): it interprets the pickle opcodes torch.save() emits
// (protocols 2 to 5) and builds TorchValue nodes. Globals are looked up in a fixed allow-list (OrderedDict, the
// torch._utils tensor/parameter rebuild functions, the storage types of the supported dtypes, _codecs.encode for
// bytes); any other global is refused by name before anything could refer to it, and nothing is ever called.
// Internal to core/torch_file.cpp.
#pragma once
#include <cstdint>
#include <deque>
#include <map>
#include <string>

#include "core/torch_file.h"

namespace mtinet::torch_detail {

class Unpickler {
 public:
  // Nodes go into `arena`; `source` (the file) and `what` ("data.pkl", "the legacy object pickle") name the pickle
  // in messages. Storage records seen by one Unpickler are shared by key across its loads.
  Unpickler(std::deque<TorchValue>& arena, std::string source);
  // Reads one pickle that starts at data[pos] and ends within data[0, size); returns the object STOP leaves and
  // advances pos past STOP.
  const TorchValue* load(const uint8_t* data, uint64_t size, uint64_t& pos, const std::string& what);
  // The storage records the loads referred to, by key.
  const std::map<std::string, TorchValue*>& storages() const { return storages_; }

 private:
  std::deque<TorchValue>& arena_;
  std::string source_;
  std::map<std::string, TorchValue*> storages_;
  uint64_t amplified_bytes_ = 0;  // bytes tensors add beyond their storages (overlapping strides), bounded
};

}  // namespace mtinet::torch_detail
