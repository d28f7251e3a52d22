// Fuzz target: the dataset split lists (gt_sets/*.txt, ImageSets/Context/*.txt) as data/dataset_files reads them:
// line splitting, trailing CR/space trimming and the id checks. read_split_ids takes a path, so the bytes go through
// a private temporary file, as fuzz_config's do.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "core/error.h"
#include "data/dataset_files.h"
#include "tests/fuzz/fuzz_targets.h"

namespace mtinet::fuzz {

int fuzz_split(const uint8_t* data, size_t size) {
  static const std::string path = (std::filesystem::temp_directory_path() /
                                   ("mtinet_fuzz_split_" + std::to_string(::getpid()) + ".txt")).string();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  bool written = f && (size == 0 || std::fwrite(data, 1, size, f) == size);
  if (f) std::fclose(f);
  if (!written) throw std::runtime_error("fuzz_split: cannot write the input to " + path);
  struct RemoveAtExit {
    const std::string& file;
    ~RemoveAtExit() { std::remove(file.c_str()); }
  } cleanup{path};
  try {
    for (const std::string& id : read_split_ids(path, "NYUD", "fuzz")) {
      // What the readers then do with an id: make file names of it.
      if (id.empty() || id.find('/') != std::string::npos) throw std::logic_error("fuzz_split: bad id accepted");
    }
  } catch (const Error&) {
  }
  return 0;
}

}  // namespace mtinet::fuzz

MTINET_FUZZ_MAIN(fuzz_split)
