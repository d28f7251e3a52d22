// How many threads the CPU kernels use (one OpenMP pool; OpenBLAS runs single-threaded inside it, see
// kernels/conv/gemm_parallel_cpu.h). The default is every core this process may run on (its CPU affinity mask, which
// a container, taskset or a batch scheduler may have narrowed); the config key `threads` or `--threads N` sets it.
#pragma once

namespace mtinet {

int cores_available();  // CPUs in this process's affinity mask (at least 1)
// n > 0: use n threads; 0: OMP_NUM_THREADS when it is set, else cores_available(). Throws for a negative n.
void set_compute_threads(int n);
int compute_threads();  // the number in use

}  // namespace mtinet
