#include "core/omp_wait_policy.h"

#include <unistd.h>

#include <cstdlib>

namespace mtinet {

void reexec_with_passive_omp_wait(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  // Set before exec so the new image's libgomp reads it; also marks this process, so a failed exec cannot loop.
  if (setenv("OMP_WAIT_POLICY", "passive", 1) != 0) return;
  execv("/proc/self/exe", argv);
}

}  // namespace mtinet
