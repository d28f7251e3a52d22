// Fuzz target: the training-config reader. load_train_config takes a path (it reads the file with comments allowed,
// then validates every key), so the bytes go through a private temporary file, which also covers read_json_file.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "train/config.h"
#include "tests/fuzz/fuzz_targets.h"

namespace mtinet::fuzz {

int fuzz_config(const uint8_t* data, size_t size) {
  // One file per process: parallel fuzzing jobs (-jobs=N) must not read each other's inputs.
  static const std::string path = (std::filesystem::temp_directory_path() /
                                   ("mtinet_fuzz_config_" + std::to_string(::getpid()) + ".json")).string();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  bool written = f && (size == 0 || std::fwrite(data, 1, size, f) == size);  // fwrite(nullptr, ...) is UB
  if (f) std::fclose(f);
  // Not an Error: a harness that cannot write its input tested nothing, which must fail loudly, not pass.
  if (!written) throw std::runtime_error("fuzz_config: cannot write the input to " + path);
  struct RemoveAtExit {
    const std::string& file;
    ~RemoveAtExit() { std::remove(file.c_str()); }
  } cleanup{path};  // also when the parser throws a finding
  try {
    load_train_config(path);
  } catch (const Error&) {
    // A rejected config is the expected outcome for most inputs.
  }
  return 0;
}

}  // namespace mtinet::fuzz

MTINET_FUZZ_MAIN(fuzz_config)
