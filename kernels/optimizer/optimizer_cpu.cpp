#include <cstdint>

#include "kernels/optimizer/optimizer.h"
#include "kernels/cpu_parallel.h"

namespace mtinet::kernels {

namespace {
template <class T>
void sgd_loop(T* p, const T* g, T* buf, int64_t n, const SgdParams& h) {
#pragma omp parallel for schedule(static) if (n > kMinParallelElements)
  for (int64_t i = 0; i < n; ++i) sgd_update(p[i], g[i], buf[i], h);
}

template <class T>
void adam_loop(T* p, const T* g, T* m, T* v, int64_t n, const AdamParams& h) {
#pragma omp parallel for schedule(static) if (n > kMinParallelElements)
  for (int64_t i = 0; i < n; ++i) adam_update(p[i], g[i], m[i], v[i], h);
}

template <class T>
void scale_loop(T* x, int64_t n, T s) {
#pragma omp parallel for schedule(static) if (n > kMinParallelElements)
  for (int64_t i = 0; i < n; ++i) x[i] *= s;
}
}  // namespace

void sgd_step_cpu(Tensor& params, const Tensor& grads, Tensor& buf, const SgdParams& h) {
  MTINET_FLOAT_TYPES(params.dtype(), T, sgd_loop(params.data<T>(), grads.data<T>(), buf.data<T>(), params.numel(), h));
}

void adam_step_cpu(Tensor& params, const Tensor& grads, Tensor& m, Tensor& v, const AdamParams& h) {
  MTINET_FLOAT_TYPES(params.dtype(), T,
                     adam_loop(params.data<T>(), grads.data<T>(), m.data<T>(), v.data<T>(), params.numel(), h));
}

void sum_squares_cpu(const Tensor& x, Tensor& out) {
  MTINET_FLOAT_TYPES(x.dtype(), T, {
    const T* p = x.data<T>();
    double acc = 0;  // sequential: the same result for any thread count
    for (int64_t i = 0; i < x.numel(); ++i) acc += double(p[i]) * double(p[i]);
    out.data<T>()[0] = T(acc);
  });
}

void scale_by_cpu(Tensor& x, const Tensor& s) {
  MTINET_FLOAT_TYPES(x.dtype(), T, scale_loop(x.data<T>(), x.numel(), s.data<T>()[0]));
}

}  // namespace mtinet::kernels
