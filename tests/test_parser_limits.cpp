// The fuzz findings in the .pth and .mat readers (tests/fuzz/regressions/{torch,mat}, written by
// tests/fuzz/make_corpus.py): each file asked for far more memory than it holds, or wrapped a byte count. The replay
// test (test_fuzz_replay.cpp) proves they no longer crash; this one that each is refused by a message naming the
// file and the limit it broke, rather than failing later for another reason.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/file_io.h"
#include "core/torch_file.h"
#include "data/mat.h"
#include "test_util.h"

using namespace mtinet;

namespace {

std::string regression(const std::string& target, const std::string& name) {
  return test::fixture_path("../fuzz/regressions/" + target + "/" + name);
}

void check_message(const std::string& msg, const std::vector<std::string>& parts) {
  INFO(msg);
  for (const std::string& p : parts) CHECK(msg.find(p) != std::string::npos);
}

}  // namespace

TEST_CASE("pth: byte counts that wrap and copies beyond the file are refused by name") {
  // 2^61 + 1 doubles expanded from one: 2^64 + 8 bytes, which wrapped to an 8-byte buffer (heap overflow).
  std::string path = regression("torch", "expand_bytes_wrap.pth");
  check_message(test::error_message([&] { load_torch_weights(path); }), {path, "2^62 bytes", "[2305843009213693953]"});
  // A storage of 2^61 doubles: 2^64 bytes wrapped to 0, matching an empty entry.
  path = regression("torch", "storage_bytes_wrap.pth");
  check_message(test::error_message([&] { load_torch_weights(path); }),
                {path, "storage '0' declares 2305843009213693952 elements of torch.DoubleStorage", "2^62 bytes"});
  // Ten parameters rebuilt from one 256 MB expanded view: 2.5 GB of copies from a 1 KB file.
  path = regression("torch", "parameter_copies.pth");
  check_message(test::error_message([&] { load_torch_weights(path); }), {path, "256 MB beyond the file's 1041 bytes"});
}

TEST_CASE("mat: values that would take gigabytes of memory are refused by name") {
  // 12M empty cells (12M MatValues, 2.4 GB) and 270M doubles stored as uint8 (2.2 GB), each from a small file.
  for (const char* name : {"many_empty_cells.mat", "uint8_stored_doubles.mat"}) {
    std::string path = regression("mat", name);
    check_message(test::error_message([&] { read_mat(path); }), {path, "more than 1024 MB of memory"});
  }
}
