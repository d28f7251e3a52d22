// Data-parallel training across processes: who this process is (rank, world size, local rank) and the few
// collectives the trainer needs (broadcast from rank 0, all-reduce of a flat buffer), over MPI.
//
// One process per device, launched by mpirun (or any MPI launcher). Without MPI in the build, or when the program
// was not started by a launcher, this is a world of one process and every collective is a no-op, so the trainer
// calls them unconditionally. A build without MPI that is launched as several ranks refuses to start (it would
// otherwise train N independent copies that overwrite each other's checkpoints).
//
// Every rank must make the same collective calls in the same order; a rank that throws makes the others wait
// forever, so the program's error handler calls abort_world() (MPI_Abort) after printing its message.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace mtinet::dist {

struct World {
  int rank = 0;
  int size = 1;
  int local_rank = 0;  // rank among the processes on this machine: which GPU to use
  bool mpi = false;    // MPI initialised by init() (false: a world of one without collectives)
};

// Joins the launcher's world (MPI_Init_thread) when started by one; idempotent. Throws when the environment says
// several ranks were launched but this build has no MPI.
void init();
// MPI_Finalize when init() initialised MPI; every rank must call it (it is collective).
void finalize();
const World& world();
inline bool is_root() { return world().rank == 0; }
inline int size() { return world().size; }

// For commands: ranks other than 0 send stdout to /dev/null (rank 0 reports the run; N copies would bury it), unless
// MTINET_ALL_RANKS_PRINT is set. stderr, where errors go, stays.
void quiet_other_ranks();

// After an error on this rank: ends every rank of a multi-rank world (MPI_Abort) with `code`, so that none waits
// forever in a collective; returns when the world is one process.
void abort_world(int code);

// rank 0's values into every rank's tensor, in place (any floating or integer dtype; CUDA tensors go through the host).
void broadcast(const Tensor& t);
void broadcast(std::vector<int64_t>& values);
// Sums a flat floating-point buffer over the ranks, in place, in buckets of `bucket_bytes` (one MPI_Allreduce each,
// so that no reduction needs a second copy of a large buffer). The result is the same on every rank.
void allreduce_sum(const Tensor& flat, int64_t bucket_bytes = int64_t(25) << 20);
void allreduce_sum(std::vector<double>& values);
void allreduce_sum(std::vector<int64_t>& values);
// Non-blocking sums of slices of one buffer (the gradient buckets of train/overlapped_gradient_sum.h), in place:
// every rank must start the same slices in the same order. On the CPU each start is an MPI_Iallreduce on a duplicate
// of the world communicator (so that blocking collectives the trainer makes meanwhile -- sync_bn, the losses -- never
// match one of them); on CUDA with NCCL it is queued on a communication stream behind the compute stream's work so
// far; on CUDA without NCCL it goes through the host at once (blocking). A no-op in a world of one.
void allreduce_sum_start(const Tensor& slice);
// Lets started sums advance (MPI_Test on each). OpenMPI has no asynchronous progress thread by default: a
// non-blocking collective moves only while this process is inside some MPI call, so the caller polls between
// backward nodes; without polls the whole transfer would happen in allreduce_wait_all(), after backward.
void allreduce_progress();
// Returns when every started sum has arrived (CUDA: the compute stream waits for the communication stream).
void allreduce_wait_all();
// Seconds this process spent in all-reduce calls of tensors so far (blocking sums, starts, polls and waits: the
// trainer's per-step communication cost on the host).
double allreduce_seconds();
// The part of allreduce_seconds() spent waiting for sums that nothing else overlapped: every blocking
// allreduce_sum of a tensor, and allreduce_wait_all() (after backward, the optimiser step waiting for the buckets).
double allreduce_exposed_seconds();

// Scope guard for a command: init() now, finalize() at the end unless an exception is on its way out (then the error
// handler aborts the world instead: MPI_Finalize would wait for ranks that may never arrive).
class Session {
 public:
  Session() { init(); }
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
};

}  // namespace mtinet::dist
