// Multi-threaded GEMM for the CPU convolutions, threaded by mtinet (OpenMP) around single-threaded OpenBLAS calls.
//
// Why not OpenBLAS's own threads: Debian's default OpenBLAS runs a pthread pool of its own beside OpenMP's, and its
// idle threads spin after each call, so two thread pools competed for two cores; and it splits a GEMM over M and N,
// which for a convolution's weight gradient (M = Cout, N = K small, inner dimension = every pixel) leaves threads
// with slivers of work: at 2 threads that GEMM ran 10x slower than at 1. Here:
//   - gemm_split_rows: C rows in one block per thread (a convolution's rows are its pixels: always plenty). Each
//     element of C is computed by one call with the whole inner dimension, so results do not depend on the threads.
//   - gemm_at_b_split_inner: C = A^T B summed over the inner dimension (pixels) in a fixed number of chunks, each
//     into its own partial, added in chunk order: parallel for any thread count, and the same bits for every count.
// OpenBLAS is switched to one thread on first use (blas_single_threaded()).
#pragma once
#include <cstdint>

namespace mtinet::kernels {

// OpenBLAS to one thread, once per process; the GEMMs below and in gemm_cpu.h then run where they are called.
void blas_single_threaded();

// C[m, n] = alpha * A[m, k] op(B) + beta * C, op(B) = B^T [n, k] when trans_b else B [k, n]; row-major.
template <class T>
void gemm_split_rows(bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b,
                     int64_t ldb, T beta, T* c, int64_t ldc);

// C[m, n] = A[k, m]^T B[k, n] + beta * C, row-major, over the inner dimension k in fixed chunks.
template <class T>
void gemm_at_b_split_inner(int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb,
                           T beta, T* c, int64_t ldc);

}  // namespace mtinet::kernels
