#include "train/distributed.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "core/error.h"
#include "train/nccl_allreduce.h"

#ifdef MTINET_HAVE_MPI
// The C API only: MPI's deprecated C++ bindings (which mpi.h pulls in otherwise) warn under -Wextra.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace mtinet::dist {

namespace {

World g_world;
bool g_initialised = false;
double g_allreduce_seconds = 0;
double g_exposed_seconds = 0;

// Adds the time from construction to destruction to the all-reduce clock (and to the exposed one when asked).
class AllreduceClock {
 public:
  explicit AllreduceClock(bool exposed) : exposed_(exposed), t0_(std::chrono::steady_clock::now()) {}
  ~AllreduceClock() {
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    g_allreduce_seconds += s;
    if (exposed_) g_exposed_seconds += s;
  }
  AllreduceClock(const AllreduceClock&) = delete;
  AllreduceClock& operator=(const AllreduceClock&) = delete;

 private:
  bool exposed_;
  std::chrono::steady_clock::time_point t0_;
};

// The world size the launcher announced, from the variables OpenMPI (OMPI_*), MPICH/Hydra and Slurm (PMI_*) and
// PMIx launchers set; 1 when none is set (a plain start).
int launched_size() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS"}) {
    if (const char* v = std::getenv(name)) {
      int n = std::atoi(v);
      if (n > 0) return n;
    }
  }
  return 1;
}

#ifdef MTINET_HAVE_MPI
void check_mpi(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  MTINET_FAIL(call, " failed: ", std::string(text, size_t(len)));
}

MPI_Datatype mpi_type(DType dt) {
  switch (dt) {
    case DType::F32: return MPI_FLOAT;
    case DType::F64: return MPI_DOUBLE;
    case DType::I32: return MPI_INT32_T;
    case DType::I64: return MPI_INT64_T;
    case DType::U8: return MPI_UINT8_T;
    default: MTINET_FAIL("distributed: no MPI type for ", dtype_name(dt), " tensors");
  }
}

// MPI counts are ints: large buffers go in chunks of at most this many elements.
constexpr int64_t kMaxCount = int64_t(1) << 30;

// The overlapped gradient sums' own communicator (MPI_Comm_dup of the world, made in init()) and their requests.
MPI_Comm g_bucket_comm = MPI_COMM_NULL;
std::vector<MPI_Request> g_pending;

// A CPU tensor holding `t`'s values: `t` itself on the CPU; a host copy of a CUDA tensor (copied back by the caller).
Tensor host_view(const Tensor& t) { return t.device() == Device::CPU ? t : t.to(Device::CPU); }
#endif

#ifdef MTINET_HAVE_MPI
// One GPU per rank on a machine: the local rank-th of CUDA_VISIBLE_DEVICES (or of all GPUs when unset) becomes this
// process's only visible device, its "cuda". Set before any CUDA call, which is when the runtime reads it.
void pick_gpu(int local_rank) {
  std::vector<std::string> ids;
  if (const char* v = std::getenv("CUDA_VISIBLE_DEVICES")) {
    std::string list = v;
    for (size_t start = 0; start <= list.size();) {
      size_t comma = list.find(',', start);
      if (comma == std::string::npos) comma = list.size();
      if (comma > start) ids.push_back(list.substr(start, comma - start));
      start = comma + 1;
    }
    if (ids.size() <= 1) return;  // the launcher already gave each rank its device
  }
  std::string mine = ids.empty() ? std::to_string(local_rank) : ids[size_t(local_rank) % ids.size()];
  setenv("CUDA_VISIBLE_DEVICES", mine.c_str(), 1);
}
#endif

}  // namespace

void init() {
  if (g_initialised) return;
  int launched = launched_size();
#ifdef MTINET_HAVE_MPI
  if (launched > 1) {
    // FUNNELED: only the main thread calls MPI (the loader's workers never do).
    int provided = 0;
    check_mpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    g_world.mpi = true;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_world.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_world.size);
    MPI_Comm local;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, g_world.rank, MPI_INFO_NULL, &local);
    int local_size = 1;
    MPI_Comm_rank(local, &g_world.local_rank);
    MPI_Comm_size(local, &local_size);
    MPI_Comm_free(&local);
    if (local_size > 1) pick_gpu(g_world.local_rank);
    check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &g_bucket_comm), "MPI_Comm_dup");
  }
#else
  MTINET_CHECK(launched <= 1, "this mtinet was launched as ", launched, " processes (mpirun -np ", launched,
               "), but it was built without MPI, so they would train ", launched, " unrelated copies of the model "
               "writing over each other's checkpoints: install MPI (Debian: apt-get install openmpi-bin "
               "libopenmpi-dev, or tools/install_deps.sh) and rebuild, or start it as one process");
#endif
  g_initialised = true;
}

void finalize() {
#ifdef MTINET_HAVE_MPI
  nccl_finalize();
  if (g_bucket_comm != MPI_COMM_NULL) MPI_Comm_free(&g_bucket_comm);
  g_pending.clear();
  if (g_world.mpi) MPI_Finalize();
#endif
  g_world = World{};
  g_initialised = false;
}

const World& world() { return g_world; }

void quiet_other_ranks() {
  if (g_world.rank == 0 || std::getenv("MTINET_ALL_RANKS_PRINT")) return;
  std::fflush(stdout);
  if (!std::freopen("/dev/null", "w", stdout)) std::fprintf(stderr, "rank %d: cannot silence stdout\n", g_world.rank);
}

void abort_world(int code) {
#ifdef MTINET_HAVE_MPI
  if (g_world.mpi && g_world.size > 1) {
    std::fflush(stdout);
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
  }
#endif
  (void)code;
}

void broadcast(const Tensor& t) {
  if (g_world.size == 1 || t.numel() == 0) return;
#ifdef MTINET_HAVE_MPI
  Tensor h = host_view(t);
  char* p = static_cast<char*>(h.raw_data());
  size_t esize = dtype_size(t.dtype());
  for (int64_t done = 0; done < h.numel(); done += kMaxCount) {
    int count = int(std::min(kMaxCount, h.numel() - done));
    check_mpi(MPI_Bcast(p + size_t(done) * esize, count, mpi_type(t.dtype()), 0, MPI_COMM_WORLD), "MPI_Bcast");
  }
  if (!h.same(t)) t.copy_from(h);
#endif
}

void broadcast(std::vector<int64_t>& values) {
  if (g_world.size == 1 || values.empty()) return;
#ifdef MTINET_HAVE_MPI
  check_mpi(MPI_Bcast(values.data(), int(values.size()), MPI_INT64_T, 0, MPI_COMM_WORLD), "MPI_Bcast");
#endif
}

void allreduce_sum(const Tensor& flat, int64_t bucket_bytes) {
  if (g_world.size == 1) return;
  MTINET_CHECK(flat.dtype() == DType::F32 || flat.dtype() == DType::F64, "all-reduce: ", flat.describe(),
               " is not an f32 or f64 buffer");
  MTINET_CHECK(bucket_bytes > 0, "all-reduce: the bucket size must be positive, got ", bucket_bytes);
#ifdef MTINET_HAVE_MPI
  AllreduceClock clock(/*exposed=*/true);
  if (flat.device() == Device::CUDA && nccl_enabled()) {
    // Queued on the compute stream: the time measured here is the queueing, not the transfer.
    nccl_allreduce_sum(flat, bucket_bytes, g_world.rank, g_world.size);
    return;
  }
  // Without NCCL, CUDA buffers are staged through the host (correct everywhere, slow).
  Tensor h = host_view(flat);
  char* p = static_cast<char*>(h.raw_data());
  size_t esize = dtype_size(flat.dtype());
  int64_t bucket = std::max<int64_t>(1, std::min(kMaxCount, bucket_bytes / int64_t(esize)));
  for (int64_t done = 0; done < h.numel(); done += bucket) {
    int count = int(std::min(bucket, h.numel() - done));
    check_mpi(MPI_Allreduce(MPI_IN_PLACE, p + size_t(done) * esize, count, mpi_type(flat.dtype()), MPI_SUM,
                            MPI_COMM_WORLD),
              "MPI_Allreduce");
  }
  if (!h.same(flat)) flat.copy_from(h);
#endif
}

void allreduce_sum_start(const Tensor& slice) {
  if (g_world.size == 1 || slice.numel() == 0) return;
  MTINET_CHECK(slice.dtype() == DType::F32 || slice.dtype() == DType::F64, "all-reduce: ", slice.describe(),
               " is not an f32 or f64 buffer");
#ifdef MTINET_HAVE_MPI
  if (slice.device() == Device::CUDA) {
    if (nccl_enabled()) {
      AllreduceClock clock(/*exposed=*/false);
      nccl_allreduce_start(slice, g_world.rank, g_world.size);
    } else {
      allreduce_sum(slice);  // staged through the host: nothing to overlap with
    }
    return;
  }
  MTINET_CHECK(slice.numel() <= kMaxCount, "all-reduce: a bucket of ", slice.numel(), " elements is over MPI's int "
               "count; use smaller buckets");
  AllreduceClock clock(/*exposed=*/false);
  g_pending.emplace_back();
  check_mpi(MPI_Iallreduce(MPI_IN_PLACE, slice.raw_data(), int(slice.numel()), mpi_type(slice.dtype()), MPI_SUM,
                           g_bucket_comm, &g_pending.back()),
            "MPI_Iallreduce");
#endif
}

void allreduce_progress() {
#ifdef MTINET_HAVE_MPI
  if (g_pending.empty()) return;
  AllreduceClock clock(/*exposed=*/false);
  // A finished request becomes MPI_REQUEST_NULL, which MPI_Test skips at once.
  for (MPI_Request& r : g_pending) {
    int done = 0;
    check_mpi(MPI_Test(&r, &done, MPI_STATUS_IGNORE), "MPI_Test");
  }
#endif
}

void allreduce_wait_all() {
  if (g_world.size == 1) return;
#ifdef MTINET_HAVE_MPI
  AllreduceClock clock(/*exposed=*/true);
  nccl_wait_all();
  if (g_pending.empty()) return;
  check_mpi(MPI_Waitall(int(g_pending.size()), g_pending.data(), MPI_STATUSES_IGNORE), "MPI_Waitall");
  g_pending.clear();
#endif
}

void allreduce_sum(std::vector<double>& values) {
  if (g_world.size == 1 || values.empty()) return;
#ifdef MTINET_HAVE_MPI
  check_mpi(MPI_Allreduce(MPI_IN_PLACE, values.data(), int(values.size()), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD),
            "MPI_Allreduce");
#endif
}

void allreduce_sum(std::vector<int64_t>& values) {
  if (g_world.size == 1 || values.empty()) return;
#ifdef MTINET_HAVE_MPI
  check_mpi(MPI_Allreduce(MPI_IN_PLACE, values.data(), int(values.size()), MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD),
            "MPI_Allreduce");
#endif
}

double allreduce_seconds() { return g_allreduce_seconds; }
double allreduce_exposed_seconds() { return g_exposed_seconds; }

Session::~Session() {
  if (std::uncaught_exceptions() > 0) return;  // the error handler calls abort_world()
  finalize();
}

}  // namespace mtinet::dist
