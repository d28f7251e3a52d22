// The compute thread count (config `threads`, --threads): an explicit count is used as given, 0 means the
// environment's OMP_NUM_THREADS when set and else every core in the affinity mask, a negative count is refused.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include "core/compute_threads.h"
#include "core/error.h"

using namespace mtinet;

TEST_CASE("compute threads: explicit counts, 0 = the environment's or every available core, negative refused") {
  const int before = compute_threads();
  const char* env = std::getenv("OMP_NUM_THREADS");
  const std::string saved = env ? env : "";
  CHECK(cores_available() >= 1);
  set_compute_threads(3);
  CHECK(compute_threads() == 3);
  ::unsetenv("OMP_NUM_THREADS");
  set_compute_threads(0);
  CHECK(compute_threads() == cores_available());
  set_compute_threads(1);
  ::setenv("OMP_NUM_THREADS", "1", 1);
  set_compute_threads(0);  // the environment's choice (here 1) stands
  CHECK(compute_threads() == 1);
  CHECK_THROWS_AS(set_compute_threads(-1), Error);
  if (env) ::setenv("OMP_NUM_THREADS", saved.c_str(), 1); else ::unsetenv("OMP_NUM_THREADS");
  set_compute_threads(before);
}
