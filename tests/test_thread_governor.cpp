// The thread governor (core/thread_governor.h): the count it picks from a step's measured parallelism, and that it
// leaves the configured count in place when it is off and when it ends. Whether it really drops to fewer threads
// beside a busy process is measured, not tested (docs/performance.md): a test cannot make a machine busy reliably.
#include <omp.h>

#include "core/thread_governor.h"
#include "test_util.h"

using namespace mtinet;

TEST_CASE("governed thread count: the cores the last step really used, with a margin, between 1 and the configured count") {
  CHECK(governed_threads(2, 1.63) == 2);  // idle 2-core machine: the step's single-threaded parts included
  CHECK(governed_threads(2, 1.2) == 2);   // a second thread that runs a fifth of the time still helps
  CHECK(governed_threads(2, 0.99) == 1);  // one busy process beside: the two threads share one core
  CHECK(governed_threads(8, 3.3) == 4);
  CHECK(governed_threads(8, 7.9) == 8);
  CHECK(governed_threads(8, 12.0) == 8);  // never above the configured count
  CHECK(governed_threads(4, 0.0) == 1);   // never below one
  CHECK(governed_threads(1, 5.0) == 1);
}

TEST_CASE("thread governor: off for one thread or when disabled, and the configured count restored at its end") {
  const int before = omp_get_max_threads();
  omp_set_num_threads(3);
  {
    ThreadGovernor off(3, /*enabled=*/false);
    for (int i = 0; i < 3; ++i) {
      off.step_started();
      off.step_finished();
    }
    CHECK(off.current() == 3);
    CHECK(omp_get_max_threads() == 3);
    CHECK(off.steps_below_configured() == 0);
  }
  {
    ThreadGovernor on(3, /*enabled=*/true);
    on.step_started();
    on.step_finished();  // a step with no parallel work: the governor may drop to one thread
    CHECK(on.current() >= 1);
    CHECK(on.current() <= 3);
    CHECK(omp_get_max_threads() == on.current());
  }
  CHECK(omp_get_max_threads() == 3);
  omp_set_num_threads(before);
}
