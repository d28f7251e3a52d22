// Fuzz target: the .npy reader on an in-memory file (magic, header dict, shape, element conversion, Fortran order).
#include "data/npy.h"
#include "tests/fuzz/fuzz_targets.h"

namespace mtinet::fuzz {

int fuzz_npy(const uint8_t* data, size_t size) {
  try {
    parse_npy(data, size, "fuzz.npy");
  } catch (const Error&) {
    // A rejected file is the expected outcome for most inputs.
  }
  return 0;
}

}  // namespace mtinet::fuzz

MTINET_FUZZ_MAIN(fuzz_npy)
