// Fuzz target: the safetensors parser on an in-memory file (the header JSON, offsets, dtypes and shapes).
#include "core/safetensors.h"
#include "tests/fuzz/fuzz_targets.h"

namespace mtinet::fuzz {

int fuzz_safetensors(const uint8_t* data, size_t size) {
  try {
    parse_safetensors(data, size, "fuzz.safetensors");
  } catch (const Error&) {
    // A rejected file is the expected outcome for most inputs.
  }
  return 0;
}

}  // namespace mtinet::fuzz

MTINET_FUZZ_MAIN(fuzz_safetensors)
