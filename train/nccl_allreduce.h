// The CUDA path of dist::allreduce_sum (train/distributed.h): NCCL sums a device buffer over the ranks on the compute
// stream, with no host copy and no synchronisation. Built when the CUDA backend, MPI and NCCL (shipped with the CUDA
// toolkit) are all found; the communicator is created on first use, its id sent from rank 0 over MPI.
// Status: compiled, unverified (no multi-GPU machine has run it yet); MTINET_NCCL=0 falls back to the host path.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace mtinet::dist {

// True when this build has NCCL and MTINET_NCCL is not 0.
bool nccl_enabled();
// Sums `flat` (a CUDA f32/f64 buffer) over all `size` ranks in place, in buckets of `bucket_bytes`, queued on the
// compute stream.
void nccl_allreduce_sum(const Tensor& flat, int64_t bucket_bytes, int rank, int size);
// Starts summing `slice` (a CUDA f32/f64 buffer) on the communication stream, once the compute stream's work queued
// so far (the backward kernels that wrote it) is done; the compute stream goes on meanwhile.
void nccl_allreduce_start(const Tensor& slice, int rank, int size);
// Makes the compute stream wait for every sum started so far (no host wait).
void nccl_wait_all();
// Frees the communicator (before MPI_Finalize).
void nccl_finalize();

}  // namespace mtinet::dist
