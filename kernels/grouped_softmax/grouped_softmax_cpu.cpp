// CPU loop for the grouped softmax: OpenMP over groups, templated on float/double.
#include <cstdint>

#include "kernels/grouped_softmax/grouped_softmax.h"
#include "kernels/grouped_softmax/grouped_softmax_math.h"
#include "kernels/cpu_parallel.h"

namespace mtinet::kernels {

namespace {
template <class T>
void forward(const T* x, int64_t groups, int64_t group, T* y) {
#pragma omp parallel for schedule(static) if (groups * group > kMinParallelElements)
  for (int64_t g = 0; g < groups; ++g) softmax_group_fwd(x + g * group, y + g * group, group);
}

template <class T>
void backward(const T* y, const T* gy, int64_t groups, int64_t group, T* gx) {
#pragma omp parallel for schedule(static) if (groups * group > kMinParallelElements)
  for (int64_t g = 0; g < groups; ++g) softmax_group_bwd(y + g * group, gy + g * group, gx + g * group, group);
}
}  // namespace

void grouped_softmax_forward_cpu(const Tensor& x, int64_t group, Tensor& y) {
  MTINET_FLOAT_TYPES(x.dtype(), T, forward(x.data<T>(), x.numel() / group, group, y.data<T>()));
}

void grouped_softmax_backward_cpu(const Tensor& y, const Tensor& gy, int64_t group, Tensor& gx) {
  MTINET_FLOAT_TYPES(y.dtype(), T, backward(y.data<T>(), gy.data<T>(), y.numel() / group, group, gx.data<T>()));
}

}  // namespace mtinet::kernels
