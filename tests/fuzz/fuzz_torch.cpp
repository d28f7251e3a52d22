// Fuzz target: PyTorch .pth reading on an in-memory file, as `mtinet` loads weights (load_weights ->
// load_torch_weights): parse_torch_file (the zip or the legacy format, the restricted unpickler, every tensor view
// copied out of its storage), then torch_weights_contents (finding the state_dict, stripping 'module.').
// The fuzz build defines FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, which makes the zip reader skip its CRC-32
// check (core/torch_zip.cpp): otherwise nearly every mutation of a zip entry would stop there.
#include "core/torch_file.h"
#include "tests/fuzz/fuzz_targets.h"

namespace mtinet::fuzz {

int fuzz_torch(const uint8_t* data, size_t size) {
  try {
    TorchFile file = parse_torch_file(data, size, "fuzz.pth");
    torch_weights_contents(file);
  } catch (const Error&) {
    // A rejected file is the expected outcome for most inputs.
  }
  return 0;
}

}  // namespace mtinet::fuzz

MTINET_FUZZ_MAIN(fuzz_torch)
