// Scratch folders and small synthetic datasets for tests. Names get the process id: ctest runs test cases in
// parallel processes, which must not share folders.
#pragma once
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "data/synth_dataset.h"
#include "data/synth_pascal.h"

namespace mtinet::test {

// The scratch folders this process made, removed when it exits (a suite run writes hundreds of MB of checkpoints
// and datasets; left behind, they once filled the disk). MTINET_KEEP_TEST_DIRS=1 keeps them for a post-mortem.
struct ScratchDirs {
  std::vector<std::string> made;
  ~ScratchDirs() {
    const char* keep = std::getenv("MTINET_KEEP_TEST_DIRS");
    if (keep != nullptr && *keep != '\0' && std::string(keep) != "0") return;
    for (const std::string& d : made) {
      std::error_code ignored;
      std::filesystem::remove_all(d, ignored);
    }
  }
};
inline ScratchDirs& scratch_dirs() {
  static ScratchDirs dirs;
  return dirs;
}

// An empty folder <tmp>/<name>_<pid>, removed at exit.
inline std::string fresh_dir(const std::string& name) {
  namespace fs = std::filesystem;
  std::string d = (fs::temp_directory_path() / (name + "_" + std::to_string(::getpid()))).string();
  fs::remove_all(d);
  fs::create_directories(d);
  scratch_dirs().made.push_back(d);
  return d;
}

// Options for `count` h x w synthetic images written into fresh_dir(name).
inline synth::SynthOptions synth_options(const std::string& name, int64_t count, int h, int w, uint64_t seed,
                                         double val_fraction) {
  synth::SynthOptions o;
  o.out_dir = fresh_dir(name);
  o.count = count;
  o.height = h;
  o.width = w;
  o.seed = seed;
  o.val_fraction = val_fraction;
  return o;
}

// A synthetic NYUD-layout dataset of `count` square images written into fresh_dir(name).
inline std::string synthetic_dataset(const std::string& name, int64_t count, int size, uint64_t seed,
                                     double val_fraction) {
  synth::SynthOptions o = synth_options(name, count, size, size, seed, val_fraction);
  synth::write_synth_dataset(o);
  return o.out_dir;
}

// The same in the PASCAL-Context layout (mtinet synth --layout pascal), h x w images.
inline std::string synthetic_pascal_dataset(const std::string& name, int64_t count, int h, int w, uint64_t seed,
                                            double val_fraction) {
  synth::SynthOptions o = synth_options(name, count, h, w, seed, val_fraction);
  synth::write_pascal_synth_dataset(o);
  return o.out_dir;
}

}  // namespace mtinet::test
