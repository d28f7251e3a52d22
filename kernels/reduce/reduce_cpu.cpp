#include <cstdint>

#include "kernels/dispatch.h"
#include "kernels/reduce/reduce.h"
#include "kernels/cpu_parallel.h"

namespace mtinet::kernels {

namespace {
template <class T>
void argmax_rows(const T* p, int64_t rows, int64_t c, int64_t* o) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const T* row = p + r * c;
    int64_t best = 0;
    for (int64_t k = 1; k < c; ++k) if (row[k] > row[best]) best = k;
    o[r] = best;
  }
}

template <class T>
void fill_value(T* o, int64_t n, T v) {
#pragma omp parallel for schedule(static) if (n > kMinParallelElements)
  for (int64_t i = 0; i < n; ++i) o[i] = v;
}
}  // namespace

void sum_all_cpu(const Tensor& x, Tensor& out) {
  MTINET_FLOAT_TYPES(x.dtype(), T, {
    const T* p = x.data<T>();
    int64_t n = x.numel();
    double acc = 0;  // a fixed reduction order keeps results repeatable for any thread count
    for (int64_t i = 0; i < n; ++i) acc += double(p[i]);
    out.data<T>()[0] = T(acc);
  });
}

void argmax_channels_cpu(const Tensor& x, Tensor& out) {
  int64_t c = x.dim(-1);
  int64_t rows = c ? x.numel() / c : 0;
  MTINET_FLOAT_TYPES(x.dtype(), T, argmax_rows(x.data<T>(), rows, c, out.data<int64_t>()));
}

void broadcast_scalar_cpu(const Tensor& s, double factor, Tensor& out) {
  MTINET_FLOAT_TYPES(s.dtype(), T, fill_value(out.data<T>(), out.numel(), T(factor * double(s.data<T>()[0]))));
}

}  // namespace mtinet::kernels
