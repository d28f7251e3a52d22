#include "train/weights_file.h"

#include <cstdint>
#include <fstream>

#include "core/error.h"
#include "core/torch_file.h"
#include "train/checkpoint.h"

namespace mtinet {

namespace {
bool is_torch_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  uint8_t head[16] = {0};
  f.read(reinterpret_cast<char*>(head), sizeof(head));
  return f.gcount() > 0 && looks_like_torch_file(head, size_t(f.gcount()));
}
}  // namespace

SafetensorsContents load_weights(const std::string& path) {
  if (is_torch_file(path)) return load_torch_weights(path);
  SafetensorsContents file = load_safetensors(path);  // names the file when missing or malformed
  if (is_training_state(file)) {
    std::string weights = "the *.weights.safetensors file written beside it";
    try {
      weights = "'" + checkpoint_paths_of_state(path).weights + "'";
    } catch (const Error&) {
      // renamed: the general advice stands
    }
    MTINET_FAIL("'", path, "' is a training state file (optimiser and data-loader state, no weights): pass ",
                weights, " as weights, or continue the run with --resume");
  }
  return file;
}

}  // namespace mtinet
