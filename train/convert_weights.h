// Converting weights files between PyTorch's torch.save() format (.pth, .pth.tar, .pt) and safetensors, both ways,
// without Python: what `mtinet convert` does. The input is read like every weights input (train/weights_file.h: the
// format told by content, the state_dict found inside a checkpoint dict, 'module.' prefixes removed); the output's
// format is told by its extension.
#pragma once
#include <cstdint>
#include <string>

namespace mtinet {

enum class WeightsFormat { Safetensors, Torch };

// .safetensors -> Safetensors; .pth, .pt, .pth.tar, .tar -> Torch (case-insensitive). Throws naming the file and
// the extensions known for anything else.
WeightsFormat weights_format_of_name(const std::string& path);
const char* weights_format_name(WeightsFormat f);  // "safetensors", "PyTorch .pth (zip)"

struct ConvertResult {
  WeightsFormat output = WeightsFormat::Safetensors;
  std::string input_description;  // "PyTorch zip file, state_dict under 'model', 'module.' removed" / "safetensors"
  size_t tensors = 0;
  int64_t elements = 0;
  uint64_t bytes = 0;             // of tensor data
  size_t metadata_kept = 0;       // metadata entries written to the output
  size_t metadata_dropped = 0;    // entries the output format has no place for (.pth)
};

// Converts `in` into `out`. Refuses to write over `in` (the same path, or another name of the same file), and over
// an existing `out` unless `overwrite`. The output is written to out + ".tmp" and renamed. Safetensors output keeps
// the input's metadata (a .pth input's "format": "pt" and mtinet.converted_from naming the input file); .pth output
// has no place for metadata and drops it (counted in the result).
ConvertResult convert_weights(const std::string& in, const std::string& out, bool overwrite = false);

}  // namespace mtinet
