#include "train/nccl_allreduce.h"

#include <algorithm>
#include <cstdlib>
#include <string>

#include "core/error.h"

#ifdef MTINET_HAVE_NCCL
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#include <nccl.h>

#include "core/cuda_runtime.h"
#endif

namespace mtinet::dist {

#ifdef MTINET_HAVE_NCCL
namespace {

ncclComm_t g_comm = nullptr;

void check_nccl(ncclResult_t r, const char* call) {
  if (r != ncclSuccess) MTINET_FAIL(call, " failed: ", ncclGetErrorString(r));
}

ncclComm_t communicator(int rank, int size) {
  if (g_comm) return g_comm;
  ncclUniqueId id;
  if (rank == 0) check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
  MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, MPI_COMM_WORLD);
  check_nccl(ncclCommInitRank(&g_comm, size, id, rank), "ncclCommInitRank");
  return g_comm;
}

}  // namespace

bool nccl_enabled() {
  const char* v = std::getenv("MTINET_NCCL");
  return !(v && std::string(v) == "0");
}

void nccl_allreduce_sum(const Tensor& flat, int64_t bucket_bytes, int rank, int size) {
  MTINET_CHECK(flat.device() == Device::CUDA, "NCCL all-reduce: ", flat.describe(), " is not on the GPU");
  ncclDataType_t type = flat.dtype() == DType::F64 ? ncclFloat64 : ncclFloat32;
  ncclComm_t comm = communicator(rank, size);
  char* p = static_cast<char*>(flat.raw_data());
  size_t esize = dtype_size(flat.dtype());
  int64_t bucket = std::max<int64_t>(1, bucket_bytes / int64_t(esize));
  for (int64_t done = 0; done < flat.numel(); done += bucket) {
    size_t count = size_t(std::min(bucket, flat.numel() - done));
    void* at = p + size_t(done) * esize;
    check_nccl(ncclAllReduce(at, at, count, type, ncclSum, comm, cuda::stream()), "ncclAllReduce");
  }
}

namespace {
// The overlapped path's stream and its two events: "compute reached here" and "communication reached here".
cudaStream_t g_comm_stream = nullptr;
cudaEvent_t g_compute_ready = nullptr, g_comm_done = nullptr;

void ensure_comm_stream() {
  if (g_comm_stream) return;
  MTINET_CUDA_CHECK(cudaStreamCreateWithFlags(&g_comm_stream, cudaStreamNonBlocking));
  MTINET_CUDA_CHECK(cudaEventCreateWithFlags(&g_compute_ready, cudaEventDisableTiming));
  MTINET_CUDA_CHECK(cudaEventCreateWithFlags(&g_comm_done, cudaEventDisableTiming));
}
}  // namespace

void nccl_allreduce_start(const Tensor& slice, int rank, int size) {
  MTINET_CHECK(slice.device() == Device::CUDA, "NCCL all-reduce: ", slice.describe(), " is not on the GPU");
  ncclComm_t comm = communicator(rank, size);
  ensure_comm_stream();
  // The event captures the compute stream as it is now: the bucket's last gradient kernels are queued before it.
  // Reusing one event is safe: a wait takes the record made before it.
  MTINET_CUDA_CHECK(cudaEventRecord(g_compute_ready, cuda::stream()));
  MTINET_CUDA_CHECK(cudaStreamWaitEvent(g_comm_stream, g_compute_ready, 0));
  ncclDataType_t type = slice.dtype() == DType::F64 ? ncclFloat64 : ncclFloat32;
  void* at = slice.raw_data();
  check_nccl(ncclAllReduce(at, at, size_t(slice.numel()), type, ncclSum, comm, g_comm_stream), "ncclAllReduce");
}

void nccl_wait_all() {
  if (!g_comm_stream) return;
  MTINET_CUDA_CHECK(cudaEventRecord(g_comm_done, g_comm_stream));
  MTINET_CUDA_CHECK(cudaStreamWaitEvent(cuda::stream(), g_comm_done, 0));
}

void nccl_finalize() {
  if (g_comm_stream) {
    cudaStreamSynchronize(g_comm_stream);
    cudaEventDestroy(g_compute_ready);
    cudaEventDestroy(g_comm_done);
    cudaStreamDestroy(g_comm_stream);
    g_comm_stream = nullptr;
  }
  if (g_comm) ncclCommDestroy(g_comm);
  g_comm = nullptr;
}
#else
bool nccl_enabled() { return false; }
void nccl_allreduce_sum(const Tensor& flat, int64_t, int, int) {
  MTINET_FAIL("NCCL all-reduce of ", flat.describe(), ": this build has no NCCL");
}
void nccl_allreduce_start(const Tensor& slice, int, int) {
  MTINET_FAIL("NCCL all-reduce of ", slice.describe(), ": this build has no NCCL");
}
void nccl_wait_all() {}
void nccl_finalize() {}
#endif

}  // namespace mtinet::dist
