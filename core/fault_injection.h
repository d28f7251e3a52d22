// Crash points for the fault tests (tests/faults/): the process kills itself with SIGKILL when it reaches the named
// point, so a test can stop a run at an exact moment no timer could hit reliably (between the two files of a
// checkpoint, after a temporary file is written but before its rename, mid-prune). Set by the environment:
//   MTINET_FAULT_KILL_AT=<point>[:<n>]   die at the n-th time (default 1st) the point is reached
// Unset, a point costs one relaxed atomic load. The points are listed in docs/training.md ("Faults").
#pragma once

namespace mtinet {

void fault_point(const char* name);

}  // namespace mtinet
