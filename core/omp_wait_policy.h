// Makes idle OpenMP threads sleep instead of spin, for programs whose cores may be shared.
//
// libgomp's idle threads spin for a while (about 300k iterations) before they sleep. When the cores are shared with
// another process, a build, or OpenBLAS's own threads, the spinning threads hold the cores the working ones need:
// the golden-model tests took 137 s instead of 7.5 s on two loaded cores (2026-11-30, AMD EPYC, load average 8).
// libgomp reads OMP_WAIT_POLICY once, when it is loaded, before main runs; so when the user has not chosen a policy,
// main re-executes the program once with OMP_WAIT_POLICY=passive. Setting OMP_WAIT_POLICY (to active, say, on a
// dedicated machine) skips the re-execution.
#pragma once

namespace mtinet {

// Call first thing in main. Returns only if OMP_WAIT_POLICY was already set or the re-execution failed (the program
// then runs on with libgomp's default).
void reexec_with_passive_omp_wait(char** argv);

}  // namespace mtinet
