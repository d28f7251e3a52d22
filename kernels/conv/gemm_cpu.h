// Row-major GEMM on the CPU through CBLAS (OpenBLAS), overloaded for float and double so the conv2d and linear
// loops can be written once as templates: C[m,n] = alpha * op(A)[m,k] op(B)[k,n] + beta * C.
#pragma once
#include <cblas.h>

#include <cstdint>
#include <limits>

#include "core/error.h"

namespace mtinet::kernels {

// CBLAS takes int sizes; refuse anything larger instead of silently wrapping.
inline int blas_int(int64_t v) {
  MTINET_CHECK(v >= 0 && v <= std::numeric_limits<int>::max(), "GEMM dimension ", v, " does not fit CBLAS's int");
  return int(v);
}

inline void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                 int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, blas_int(m),
              blas_int(n), blas_int(k), alpha, a, blas_int(lda), b, blas_int(ldb), beta, c, blas_int(ldc));
}

inline void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha, const double* a,
                 int64_t lda, const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, blas_int(m),
              blas_int(n), blas_int(k), alpha, a, blas_int(lda), b, blas_int(ldb), beta, c, blas_int(ldc));
}

}  // namespace mtinet::kernels
