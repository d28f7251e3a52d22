#include "train/convert_weights.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>

#include "core/error.h"
#include "core/safetensors.h"
#include "core/torch_write.h"
#include "train/weights_file.h"

namespace mtinet {

namespace fs = std::filesystem;

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The metadata load_torch_weights() adds to say how it read a .pth file: true of the reading, not of the weights.
const char* const kTorchReadKeys[] = {"torch_format", "state_dict_key", "stripped_prefix"};

std::string describe_input(const SafetensorsContents& c) {
  auto meta = [&](const char* key) {
    auto it = c.metadata.find(key);
    return it == c.metadata.end() ? std::string() : it->second;
  };
  if (meta("torch_format").empty()) return "safetensors";
  std::string d = "PyTorch " + meta("torch_format") + " file";
  const std::string key = meta("state_dict_key");
  d += key.empty() ? ", state_dict at the top level" : ", state_dict under '" + key + "'";
  if (!meta("stripped_prefix").empty()) d += ", '" + meta("stripped_prefix") + "' prefix removed";
  return d;
}

}  // namespace

WeightsFormat weights_format_of_name(const std::string& path) {
  std::string name = fs::path(path).filename().string();
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char ch) { return char(std::tolower(ch)); });
  if (ends_with(name, ".safetensors")) return WeightsFormat::Safetensors;
  for (const char* ext : {".pth", ".pt", ".pth.tar", ".tar"}) {
    if (ends_with(name, ext)) return WeightsFormat::Torch;
  }
  MTINET_FAIL("cannot tell the output format from the name '", path,
              "': use .safetensors, or .pth / .pt / .pth.tar for PyTorch's torch.save format");
}

const char* weights_format_name(WeightsFormat f) {
  return f == WeightsFormat::Safetensors ? "safetensors" : "PyTorch .pth (zip)";
}

ConvertResult convert_weights(const std::string& in, const std::string& out, bool overwrite) {
  ConvertResult r;
  r.output = weights_format_of_name(out);  // before reading: a wrong name fails at once
  std::error_code ec;
  if (in == out || (fs::exists(out, ec) && fs::equivalent(in, out, ec))) {
    MTINET_FAIL("'", out, "' is the input file itself: refusing to write over it");
  }
  if (!overwrite && fs::exists(out, ec)) MTINET_FAIL("'", out, "' exists: remove it or pass --force to replace it");

  SafetensorsContents c = load_weights(in);
  r.input_description = describe_input(c);
  r.tensors = c.tensors.size();
  for (const auto& [name, t] : c.tensors) {
    r.elements += t.numel();
    r.bytes += t.nbytes();
  }
  std::map<std::string, std::string> metadata = c.metadata;
  if (metadata.count("torch_format")) {
    for (const char* key : kTorchReadKeys) metadata.erase(key);
    metadata["mtinet.converted_from"] = fs::path(in).filename().string();
  }
  if (r.output == WeightsFormat::Safetensors) {
    save_safetensors(out, c.tensors, metadata);
    r.metadata_kept = metadata.size();
  } else {
    save_torch_state_dict(out, c.tensors);
    r.metadata_dropped = metadata.size() - metadata.count("format");  // a .pth file is "pt" by definition
  }
  return r;
}

}  // namespace mtinet
