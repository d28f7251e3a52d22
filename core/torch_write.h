// Writing PyTorch .pth files natively, without Python: a state_dict saved as torch.save(OrderedDict) would save it
// in the zip format (torch >= 1.6), so stock PyTorch reads it with torch.load(f, weights_only=True). The archive
// holds <archive>/data.pkl (a protocol-2 pickle: an OrderedDict of tensors rebuilt by
// torch._utils._rebuild_tensor_v2 from persistent storage ids), <archive>/byteorder ("little"),
// <archive>/data/<key> (one storage per tensor, raw little-endian elements) and <archive>/version ("3").
// The pickle refers only to globals that torch's weights_only loader and our reader (core/torch_file.h) allow.
#pragma once
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace mtinet {

struct TorchSaveOptions {
  // The folder inside the zip. torch.save names it after the file's stem; torch.load accepts any name.
  std::string archive = "archive";
  // Names of U8 tensors (values 0 or 1) to write as torch.bool: mtinet holds bool tensors as U8.
  std::set<std::string> bool_tensors;
};

// Writes the tensors (any device; f32, f64, f16, bf16, i64, i32, u8) in the given order as a contiguous state_dict.
// Each tensor gets its own storage holding exactly its elements, so a view into a larger buffer writes only the
// view. `target` names the file in messages. Throws mtinet::Error naming the tensor for what cannot be written.
void write_torch_state_dict(std::ostream& out, const std::vector<std::pair<std::string, Tensor>>& tensors,
                            const TorchSaveOptions& options = {}, const std::string& target = "<stream>");
// The same into `path`, written to path + ".tmp" and renamed, so a crash never leaves a half-written file.
void save_torch_state_dict(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                           const TorchSaveOptions& options = {});

}  // namespace mtinet
