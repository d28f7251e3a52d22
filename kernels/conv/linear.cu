// CUDA linear layer through cuBLAS, f32 only. cuBLAS is column-major and our matrices are row-major, and a row-major
// M[r, c] is the column-major M^T, so each product is computed transposed: y^T = w x^T, gx^T = w^T gy^T and
// gw^T = x^T gy. TF32 follows cuda::tf32_enabled() through the math mode the runtime keeps on the cuBLAS handle.
#include <cstdint>

#include "core/cuda_runtime.h"
#include "kernels/conv/conv2d.h"
#include "kernels/conv/linear.h"
#include "kernels/dispatch.h"

namespace mtinet::kernels {

namespace {

void check_f32(const char* op, const Tensor& t) {
  MTINET_CHECK(t.dtype() == DType::F32, op, " on CUDA supports f32 only, got ", t.describe());
}

int blas_int(int64_t v) {
  MTINET_CHECK(v >= 0 && v <= INT32_MAX, "linear: size ", v, " does not fit cuBLAS's int");
  return int(v);
}

// Column-major C[m, n] = op(A)[m, k] op(B)[k, n] on the compute stream.
void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
           int64_t ldb, float* c, int64_t ldc) {
  const float one = 1.f, zero = 0.f;
  MTINET_CUBLAS_CHECK(cuda::cublas_library().sgemm(cuda::cublas(), trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
                                  trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, blas_int(m), blas_int(n), blas_int(k), &one, a,
                                  blas_int(lda), b, blas_int(ldb), &zero, c, blas_int(ldc)));
}

}  // namespace

void linear_forward_cuda(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y) {
  check_f32("linear", x);
  const int64_t n = x.dim(0), in = x.dim(1), out = w.dim(0);
  // y^T [out, n] = w [out, in] (stored as column-major w^T, so transposed) x^T [in, n].
  sgemm(true, false, out, n, in, w.data<float>(), in, x.data<float>(), in, y.data<float>(), out);
  if (bias.defined()) bias_add_cuda(y, bias);
}

void linear_backward_input_cuda(const Tensor& gy, const Tensor& w, Tensor& gx) {
  check_f32("linear backward", gy);
  const int64_t n = gy.dim(0), in = w.dim(1), out = w.dim(0);
  // gx^T [in, n] = w^T [in, out] gy^T [out, n].
  sgemm(false, false, in, n, out, w.data<float>(), in, gy.data<float>(), out, gx.data<float>(), in);
}

void linear_backward_weight_cuda(const Tensor& gy, const Tensor& x, Tensor& gw) {
  check_f32("linear backward", gy);
  const int64_t n = gy.dim(0), in = x.dim(1), out = gw.dim(0);
  // gw^T [in, out] = x^T [in, n] gy [n, out] (gy stored as column-major gy^T, so transposed).
  sgemm(false, true, in, out, n, x.data<float>(), in, gy.data<float>(), out, gw.data<float>(), in);
}

}  // namespace mtinet::kernels
