// Replays the fuzz seed corpus and the regression inputs (tests/fuzz/corpus, tests/fuzz/regressions) through the
// fuzz targets with the normal build, so CI needs no clang: every file must be accepted or rejected with
// mtinet::Error. Another exception type fails the file here; a crash kills mtinet_tests inside this test.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "test_util.h"

// The targets' bodies, compiled into this file: only tests/*.cpp are built into mtinet_tests.
#include "fuzz/fuzz_config.cpp"
#include "fuzz/fuzz_split.cpp"
#include "fuzz/fuzz_image.cpp"
#include "fuzz/fuzz_mat.cpp"
#include "fuzz/fuzz_npy.cpp"
#include "fuzz/fuzz_safetensors.cpp"
#include "fuzz/fuzz_torch.cpp"

namespace {

namespace fs = std::filesystem;
using FuzzTarget = int (*)(const uint8_t*, size_t);

const std::string kFuzzDir = MTINET_FIXTURE_DIR "/../fuzz";

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> out;
  if (fs::is_directory(dir)) {
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.is_regular_file()) out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());  // a stable order, so a failure names the same file on every run
  return out;
}

// Runs the target on every file in tests/fuzz/<kind>/<name>; returns how many files there were.
size_t replay(const std::string& kind, const std::string& name, FuzzTarget target) {
  std::vector<fs::path> files = files_in(kFuzzDir + "/" + kind + "/" + name);
  for (const fs::path& file : files) {
    INFO("input " << file.string());
    std::ifstream in(file, std::ios::binary);
    REQUIRE(in.good());
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    try {
      target(bytes.data(), bytes.size());
    } catch (const std::exception& e) {  // the targets catch mtinet::Error: anything reaching here is a finding
      FAIL_CHECK("the parser threw something other than mtinet::Error: " << e.what());
    } catch (...) {
      FAIL_CHECK("the parser threw something other than a std::exception");
    }
  }
  return files.size();
}

// The corpus must be there: a wrong path would otherwise replay nothing and pass.
void replay_all(const std::string& name, FuzzTarget target, size_t min_corpus, size_t min_regressions) {
  CHECK(replay("corpus", name, target) >= min_corpus);
  CHECK(replay("regressions", name, target) >= min_regressions);
}

}  // namespace

TEST_CASE("fuzz replay: safetensors corpus and regressions") {
  replay_all("safetensors", mtinet::fuzz::fuzz_safetensors, 8, 1);
}

TEST_CASE("fuzz replay: npy corpus and regressions") { replay_all("npy", mtinet::fuzz::fuzz_npy, 15, 4); }

TEST_CASE("fuzz replay: image corpus and regressions") { replay_all("image", mtinet::fuzz::fuzz_image, 15, 3); }

TEST_CASE("fuzz replay: config corpus and regressions") { replay_all("config", mtinet::fuzz::fuzz_config, 15, 1); }

TEST_CASE("fuzz replay: torch corpus and regressions") { replay_all("torch", mtinet::fuzz::fuzz_torch, 16, 3); }

TEST_CASE("fuzz replay: mat corpus and regressions") { replay_all("mat", mtinet::fuzz::fuzz_mat, 19, 2); }

TEST_CASE("fuzz replay: split corpus and regressions") { replay_all("split", mtinet::fuzz::fuzz_split, 8, 0); }
