// CPU loops for the loss kernels: OpenMP over pixels, templated on float/double, per-pixel math from losses_math.h.
// Forward sums are accumulated in double over fixed chunks, then the chunk partials in order (fixed_order_sum,
// losses_cpu_common.h), so a loss is bitwise the same for any thread count.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/cpu_exp.h"
#include "kernels/cpu_isa.h"
#include "kernels/dispatch.h"
#include "kernels/losses/losses.h"
#include "kernels/losses/losses_cpu_common.h"
#include "kernels/losses/losses_math.h"

namespace mtinet::kernels {

namespace {

using namespace losses_cpu;

// ---- cross entropy ----

// The vectorised f32 rows behind losses_cpu_common.h's CeRows, one copy per instruction set.
[[gnu::always_inline]] inline float row_max(const float* x, int64_t c) {
  float m = x[0];
#pragma omp simd reduction(max : m)
  for (int64_t k = 1; k < c; ++k) m = x[k] > m ? x[k] : m;
  return m;
}

[[gnu::always_inline]] inline float ce_row_lse_body(const float* x, int64_t c) {
  const float m = row_max(x, c);
  float s = 0.f;
#pragma omp simd reduction(+ : s)
  for (int64_t k = 0; k < c; ++k) s += exp_vectorisable(x[k] - m);
  return m + std::log(s);
}

[[gnu::always_inline]] inline void ce_row_grad_body(const float* x, int64_t c, int64_t y, float scale, float* out) {
  const float m = row_max(x, c);
  float s = 0.f;
#pragma omp simd reduction(+ : s)
  for (int64_t k = 0; k < c; ++k) {
    out[k] = exp_vectorisable(x[k] - m);
    s += out[k];
  }
  const float inv = 1.f / s;
#pragma omp simd
  for (int64_t k = 0; k < c; ++k) out[k] = (out[k] * inv - (k == y ? 1.f : 0.f)) * scale;
}

#define MTINET_CE_ROWS(name, target)                                                                     \
  target float ce_row_lse_##name(const float* x, int64_t c) { return ce_row_lse_body(x, c); }          \
  target void ce_row_grad_##name(const float* x, int64_t c, int64_t y, float scale, float* out) {     \
    ce_row_grad_body(x, c, y, scale, out);                                                             \
  }
MTINET_CE_ROWS(avx512, [[gnu::target("avx512f")]])
MTINET_CE_ROWS(avx2, [[gnu::target("avx2,fma")]])
MTINET_CE_ROWS(baseline, )
#undef MTINET_CE_ROWS

template <class T>
void ce_forward(const T* x, const int64_t* lab, int64_t pixels, int64_t c, int64_t ignore_index, Tensor& loss,
                Tensor& n_valid) {
  const CeRows rows = ce_rows();
  Sums<2> s = fixed_order_sum<2>(pixels, [&](int64_t i, Sums<2>& acc) {
    int64_t y = lab[i];
    if (y == ignore_index) return;
    acc[0] += double(ce_row_lse(rows, x + i * c, c) - x[i * c + y]);  // = ce_pixel_loss
    acc[1] += 1.0;
  });
  loss.data<T>()[0] = T(mean_or_zero(s[0], s[1]));
  n_valid.data<double>()[0] = s[1];
}

template <class T>
void ce_backward(const T* x, const int64_t* lab, int64_t pixels, int64_t c, int64_t ignore_index, T scale, T* gx) {
  const CeRows rows = ce_rows();
  parallel_for(pixels, [&](int64_t i) {
    const T* row = x + i * c;
    T* out = gx + i * c;
    int64_t y = lab[i];
    if (y == ignore_index) {
      for (int64_t k = 0; k < c; ++k) out[k] = T(0);
      return;
    }
    ce_row_grad(rows, row, c, y, scale, out);
  });
}

// ---- masked L1 ----

template <class T>
void l1_forward(const T* p, const T* l, int64_t n, T invalid, Tensor& loss, Tensor& n_valid) {
  Sums<2> s = fixed_order_sum<2>(n, [&](int64_t i, Sums<2>& acc) {
    if (!l1_valid(l[i], invalid)) return;
    acc[0] += double(magnitude(p[i] - l[i]));
    acc[1] += 1.0;
  });
  loss.data<T>()[0] = T(mean_or_zero(s[0], s[1]));
  n_valid.data<double>()[0] = s[1];
}

template <class T>
void l1_backward(const T* p, const T* l, int64_t n, T invalid, T scale, T* gp) {
  parallel_for(n, [&](int64_t i) { gp[i] = l1_valid(l[i], invalid) ? l1_sign(p[i] - l[i]) * scale : T(0); });
}

// ---- normals ----

template <class T>
void normals_forward(const T* p, const T* l, int64_t pixels, Tensor& loss, Tensor& n_valid) {
  Sums<2> s = fixed_order_sum<2>(pixels, [&](int64_t i, Sums<2>& acc) {
    if (!normal_label_valid(l + 3 * i)) return;
    acc[0] += double(normals_pixel_l1(p + 3 * i, l + 3 * i));
    acc[1] += 1.0;
  });
  loss.data<T>()[0] = T(mean_or_zero(s[0], 3.0 * s[1]));
  n_valid.data<double>()[0] = s[1];
}

template <class T>
void normals_backward(const T* p, const T* l, int64_t pixels, T scale, T* gp) {
  parallel_for(pixels, [&](int64_t i) {
    if (normal_label_valid(l + 3 * i)) {
      normals_pixel_grad(p + 3 * i, l + 3 * i, scale, gp + 3 * i);
    } else {
      for (int c = 0; c < 3; ++c) gp[3 * i + c] = T(0);
    }
  });
}

// ---- balanced BCE ----

template <class T>
void bce_forward(const T* x, const T* lab, int64_t n, std::optional<double> pos_weight, Tensor& loss,
                 Tensor& weight) {
  Sums<3> s = fixed_order_sum<3>(n, [&](int64_t i, Sums<3>& acc) { bce_accumulate(x[i], lab[i], acc); });
  bce_finish<T>(s, n, pos_weight, loss, weight);
}

template <class T>
void bce_backward(const T* x, const T* lab, int64_t n, T w, T scale, T* gx) {
  parallel_for(n, [&](int64_t i) { gx[i] = bce_logit_grad(x[i], bce_positive(double(lab[i])), w, scale); });
}

}  // namespace

losses_cpu::CeRows losses_cpu::ce_rows() {
  switch (cpu_isa()) {
    case CpuIsa::Avx512: return {ce_row_lse_avx512, ce_row_grad_avx512};
    case CpuIsa::Avx2: return {ce_row_lse_avx2, ce_row_grad_avx2};
    default: return {ce_row_lse_baseline, ce_row_grad_baseline};
  }
}

void check_class_labels(const int64_t* labels, int64_t n, int64_t classes, int64_t ignore_index,
                        const std::string& what) {
  for (int64_t i = 0; i < n; ++i) {
    MTINET_CHECK(!ce_label_bad(labels[i], classes, ignore_index), "cross_entropy: label ", labels[i], " at pixel ", i,
                 " of ", what, " is not a class index in [0, ", classes, ") nor the ignore index ", ignore_index);
  }
}

void cross_entropy_forward_cpu(const Tensor& logits, const Tensor& labels, int64_t ignore_index, Tensor& loss,
                               Tensor& n_valid) {
  int64_t c = logits.dim(-1);
  // Checked before the parallel loop: an exception must not leave an OpenMP region.
  check_class_labels(labels.data<int64_t>(), labels.numel(), c, ignore_index, labels.describe());
  MTINET_FLOAT_TYPES(logits.dtype(), T,
                     ce_forward(logits.data<T>(), labels.data<int64_t>(), labels.numel(), c, ignore_index, loss,
                                n_valid));
}

void cross_entropy_backward_cpu(const Tensor& logits, const Tensor& labels, int64_t ignore_index,
                                const Tensor& n_valid, const Tensor& grad_loss, Tensor& grad_logits) {
  MTINET_FLOAT_TYPES(logits.dtype(), T,
                     ce_backward(logits.data<T>(), labels.data<int64_t>(), labels.numel(), logits.dim(-1),
                                 ignore_index, mean_grad_scale(upstream<T>(grad_loss), stat(n_valid)),
                                 grad_logits.data<T>()));
}

void masked_l1_forward_cpu(const Tensor& pred, const Tensor& label, double invalid_value, Tensor& loss,
                           Tensor& n_valid) {
  MTINET_FLOAT_TYPES(pred.dtype(), T,
                     l1_forward(pred.data<T>(), label.data<T>(), pred.numel(), T(invalid_value), loss, n_valid));
}

void masked_l1_backward_cpu(const Tensor& pred, const Tensor& label, double invalid_value, const Tensor& n_valid,
                            const Tensor& grad_loss, Tensor& grad_pred) {
  MTINET_FLOAT_TYPES(pred.dtype(), T,
                     l1_backward(pred.data<T>(), label.data<T>(), pred.numel(), T(invalid_value),
                                 mean_grad_scale(upstream<T>(grad_loss), stat(n_valid)), grad_pred.data<T>()));
}

void normals_l1_forward_cpu(const Tensor& pred, const Tensor& label, Tensor& loss, Tensor& n_valid) {
  MTINET_FLOAT_TYPES(pred.dtype(), T,
                     normals_forward(pred.data<T>(), label.data<T>(), pred.numel() / 3, loss, n_valid));
}

void normals_l1_backward_cpu(const Tensor& pred, const Tensor& label, const Tensor& n_valid, const Tensor& grad_loss,
                             Tensor& grad_pred) {
  MTINET_FLOAT_TYPES(pred.dtype(), T,
                     normals_backward(pred.data<T>(), label.data<T>(), pred.numel() / 3,
                                      mean_grad_scale(upstream<T>(grad_loss), 3.0 * stat(n_valid)),
                                      grad_pred.data<T>()));
}

void balanced_bce_forward_cpu(const Tensor& logits, const Tensor& labels, std::optional<double> pos_weight,
                              Tensor& loss, Tensor& weight) {
  MTINET_FLOAT_TYPES(logits.dtype(), T,
                     bce_forward(logits.data<T>(), labels.data<T>(), logits.numel(), pos_weight, loss, weight));
}

void balanced_bce_backward_cpu(const Tensor& logits, const Tensor& labels, const Tensor& weight,
                               const Tensor& grad_loss, Tensor& grad_logits) {
  MTINET_FLOAT_TYPES(logits.dtype(), T,
                     bce_backward(logits.data<T>(), labels.data<T>(), logits.numel(), T(stat(weight)),
                                  mean_grad_scale(upstream<T>(grad_loss), double(logits.numel())),
                                  grad_logits.data<T>()));
}

}  // namespace mtinet::kernels
