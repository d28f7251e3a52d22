// The test runner, like mtinet, re-executes itself with OMP_WAIT_POLICY=passive unless the user chose a policy
// (core/omp_wait_policy.h), so by the time any test runs the variable is set.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

TEST_CASE("the program runs with an OpenMP wait policy set, passive unless the user chose one") {
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  REQUIRE(policy != nullptr);
  CHECK(!std::string(policy).empty());
}
