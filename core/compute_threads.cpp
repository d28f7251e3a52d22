#include "core/compute_threads.h"

#include <omp.h>
#include <sched.h>

#include <cstdlib>

#include "core/error.h"

namespace mtinet {

int cores_available() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return omp_get_num_procs();
  int n = CPU_COUNT(&set);
  return n > 0 ? n : 1;
}

void set_compute_threads(int n) {
  MTINET_CHECK(n >= 0, "threads must be >= 0 (0 = every core this process may use), got ", n);
  if (n == 0 && std::getenv("OMP_NUM_THREADS") != nullptr) return;  // the environment's choice stands
  omp_set_num_threads(n > 0 ? n : cores_available());
}

int compute_threads() { return omp_get_max_threads(); }

}  // namespace mtinet
