// Errors as the command line shows them: without the source locations throw_error adds (core/error.h).
#include <doctest/doctest.h>

#include "core/error.h"

using namespace mtinet;

TEST_CASE("without_source_locations drops every location, nested ones too, and keeps the rest of the message") {
  std::string nested;
  try {
    try {
      MTINET_FAIL("out of GPU memory: requested 64 bytes");
    } catch (const Error& e) {
      MTINET_FAIL("cannot allocate a f32 tensor of shape [4, 4] on CUDA: ", e.what());
    }
  } catch (const Error& e) {
    nested = e.what();
  }
  CHECK(nested.find("tests/test_error_messages.cpp:") == 0);  // the library keeps its locations
  CHECK(without_source_locations(nested) ==
        "cannot allocate a f32 tensor of shape [4, 4] on CUDA: out of GPU memory: requested 64 bytes");
  // Text that only looks similar stays: a user's file path with a line-like suffix, a ratio.
  CHECK(without_source_locations("config runs/x.json: 'lr' must be > 0, got -1") ==
        "config runs/x.json: 'lr' must be > 0, got -1");
  CHECK(without_source_locations("train/configs/a.json:3: bad") == "train/configs/a.json:3: bad");
}
