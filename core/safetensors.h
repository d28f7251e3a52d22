// safetensors read/write (https://huggingface.co/docs/safetensors): an 8-byte little-endian header length, a JSON
// header {name: {dtype, shape, data_offsets:[begin,end]}, "__metadata__": {str: str}}, then the byte buffer.
// Reading validates everything the format defines and throws mtinet::Error naming the file and the problem.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace mtinet {

struct SafetensorsContents {
  std::vector<std::pair<std::string, Tensor>> tensors;  // in data-offset order, CPU tensors
  std::map<std::string, std::string> metadata;
  // The tensor named `name`; throws naming the file when absent.
  const Tensor& at(const std::string& name) const;
  bool contains(const std::string& name) const;
  std::string source;  // the file name, for messages
};

SafetensorsContents load_safetensors(const std::string& path);
// Parses an in-memory file; `source` names it in error messages.
SafetensorsContents parse_safetensors(const uint8_t* data, size_t size, const std::string& source);
// Writes tensors (copied to the host) in the given order. Written to path + ".tmp" then renamed, so a crash never
// leaves a half-written file under `path`.
void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace mtinet
