#include "kernels/conv/gemm_parallel_cpu.h"

#include <omp.h>

#include <algorithm>
#include <mutex>

#include "core/allocator.h"
#include "kernels/conv/gemm_cpu.h"

extern "C" void openblas_set_num_threads(int num_threads);  // in every OpenBLAS build (pthread and OpenMP)

namespace mtinet::kernels {

namespace {
// Below this many multiply-adds a GEMM runs on the calling thread: a parallel region would cost more than it saves.
constexpr int64_t kParallelFlops = int64_t(1) << 21;
// The weight gradient's inner dimension is summed in at most this many chunks of at least kMinChunk rows: enough for
// the threads of a workstation, few enough that the partials (one C each) stay small.
constexpr int64_t kMaxChunks = 8;
constexpr int64_t kMinChunk = 1024;

// Scratch for the partials, from the CPU allocator (which reuses large blocks across calls).
struct Scratch {
  explicit Scratch(size_t bytes) : bytes_(bytes), p_(allocator_for(Device::CPU).allocate(bytes)) {}
  ~Scratch() { allocator_for(Device::CPU).deallocate(p_, bytes_); }
  void* get() const { return p_; }
  size_t bytes_;
  void* p_;
};
}  // namespace

void blas_single_threaded() {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}

template <class T>
void gemm_split_rows(bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b,
                     int64_t ldb, T beta, T* c, int64_t ldc) {
  blas_single_threaded();
  const int threads = omp_get_max_threads();
  if (threads == 1 || m * n * k < kParallelFlops || m < 2 * threads) {
    gemm(false, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  // Blocks of whole 16-row strips, so each thread's GEMM keeps OpenBLAS's full-width micro-kernel.
  const int64_t per = (m + threads - 1) / threads, block = (per + 15) / 16 * 16;
#pragma omp parallel for schedule(static, 1)
  for (int64_t r0 = 0; r0 < m; r0 += block) {
    const int64_t rows = std::min(block, m - r0);
    gemm(false, trans_b, rows, n, k, alpha, a + r0 * lda, lda, b, ldb, beta, c + r0 * ldc, ldc);
  }
}

template <class T>
void gemm_at_b_split_inner(int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb,
                           T beta, T* c, int64_t ldc) {
  blas_single_threaded();
  const int64_t chunks = std::clamp<int64_t>(k / kMinChunk, 1, kMaxChunks);
  if (chunks == 1) {
    gemm(true, false, m, n, k, T(1), a, lda, b, ldb, beta, c, ldc);
    return;
  }
  const int64_t span = (k + chunks - 1) / chunks, mn = m * n;
  Scratch partials(size_t(chunks * mn) * sizeof(T));
  T* part = static_cast<T*>(partials.get());
#pragma omp parallel for schedule(static, 1)
  for (int64_t ch = 0; ch < chunks; ++ch) {
    const int64_t k0 = ch * span, kn = std::min(span, k - k0);
    gemm(true, false, m, n, kn, T(1), a + k0 * lda, lda, b + k0 * ldb, ldb, T(0), part + ch * mn, n);
  }
  // C = beta C + sum of the partials in chunk order, whatever thread computed each.
#pragma omp parallel for schedule(static) if (mn * chunks > 65536)
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      T s = part[i * n + j];
      for (int64_t ch = 1; ch < chunks; ++ch) s += part[ch * mn + i * n + j];
      c[i * ldc + j] = beta == T(0) ? s : beta * c[i * ldc + j] + s;
    }
  }
}

template void gemm_split_rows<float>(bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*,
                                     int64_t, float, float*, int64_t);
template void gemm_split_rows<double>(bool, int64_t, int64_t, int64_t, double, const double*, int64_t, const double*,
                                      int64_t, double, double*, int64_t);
template void gemm_at_b_split_inner<float>(int64_t, int64_t, int64_t, const float*, int64_t, const float*, int64_t,
                                           float, float*, int64_t);
template void gemm_at_b_split_inner<double>(int64_t, int64_t, int64_t, const double*, int64_t, const double*,
                                            int64_t, double, double*, int64_t);

}  // namespace mtinet::kernels
