// Scratch folders and small synthetic datasets for tests. Names get the process id: ctest runs test cases in
// parallel processes, which must not share folders.
#pragma once
#include <unistd.h>

#include <filesystem>
#include <string>

#include "data/synth_dataset.h"

namespace mtinet::test {

// An empty folder <tmp>/<name>_<pid>.
inline std::string fresh_dir(const std::string& name) {
  namespace fs = std::filesystem;
  std::string d = (fs::temp_directory_path() / (name + "_" + std::to_string(::getpid()))).string();
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// A synthetic NYUD-layout dataset of `count` square images written into fresh_dir(name).
inline std::string synthetic_dataset(const std::string& name, int64_t count, int size, uint64_t seed,
                                     double val_fraction) {
  synth::SynthOptions o;
  o.out_dir = fresh_dir(name);
  o.count = count;
  o.height = size;
  o.width = size;
  o.seed = seed;
  o.val_fraction = val_fraction;
  synth::write_synth_dataset(o);
  return o.out_dir;
}

}  // namespace mtinet::test
