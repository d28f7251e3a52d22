// Pieces the CPU loss loops share (losses_cpu.cpp, upsampled_losses_cpu.cpp): the fixed-order sum that makes a
// loss bitwise the same for any thread count, and the cross-entropy rows, vectorised in f32. The upsampled losses
// use exactly these, so their results are the plain losses' bits on the upsampled values.
#pragma once
#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/tensor.h"
#include "kernels/losses/losses_math.h"

namespace mtinet::kernels::losses_cpu {

constexpr int64_t kChunk = 2048;  // items per partial sum: fixed, so the summation order never depends on threads

template <int K>
using Sums = std::array<double, K>;

// Sums K per-item terms over items [0, n): item(i, acc, state) adds item i's terms into acc. Each chunk runs its
// items in order with its own copy of `state` (scratch, or a cursor that follows i).
template <int K, class State, class Item>
Sums<K> fixed_order_sum(int64_t n, const State& state, Item item) {
  int64_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<Sums<K>> partial(size_t(chunks), Sums<K>{});
#pragma omp parallel for schedule(static) if (chunks > 1)
  for (int64_t c = 0; c < chunks; ++c) {
    Sums<K> acc{};
    State st = state;
    int64_t end = std::min(n, (c + 1) * kChunk);
    for (int64_t i = c * kChunk; i < end; ++i) item(i, acc, st);
    partial[size_t(c)] = acc;
  }
  Sums<K> total{};
  for (const Sums<K>& p : partial)
    for (int k = 0; k < K; ++k) total[size_t(k)] += p[size_t(k)];
  return total;
}

// The same with item(i, acc) and no state.
template <int K, class Item>
Sums<K> fixed_order_sum(int64_t n, Item item) {
  struct None {};
  return fixed_order_sum<K>(n, None{}, [&item](int64_t i, Sums<K>& acc, None&) { item(i, acc); });
}

// Applies f(i) for i in [0, n) in parallel; small loops stay on one thread to avoid OpenMP overhead.
template <class F>
void parallel_for(int64_t n, F f) {
#pragma omp parallel for schedule(static) if (n > 4096)
  for (int64_t i = 0; i < n; ++i) f(i);
}

// sum / n, or 0 when nothing was valid.
inline double mean_or_zero(double sum, double n) { return n > 0 ? sum / n : 0.0; }

template <class T>
T upstream(const Tensor& grad_loss) { return grad_loss.data<T>()[0]; }

inline double stat(const Tensor& s) { return s.data<double>()[0]; }

// ---- balanced BCE ----

// One item's share of balanced BCE's sums: acc = {sum of positive terms, sum of negative terms, negatives}.
template <class T>
void bce_accumulate(T logit, T label, Sums<3>& acc) {
  const bool y = bce_positive(double(label));
  acc[y ? 0 : 1] += -double(bce_loss_val(logit, y));
  if (!y) acc[2] += 1.0;
}

// The loss from the sums over n items, and the positive weight used (pos_weight, else the share of negatives).
template <class T>
void bce_finish(const Sums<3>& s, int64_t n, std::optional<double> pos_weight, Tensor& loss, Tensor& weight) {
  const double w = pos_weight ? *pos_weight : s[2] / double(n);
  loss.data<T>()[0] = T((w * s[0] + (1.0 - w) * s[1]) / double(n));
  weight.data<double>()[0] = w;
}

// ---- cross-entropy rows ----

// The f32 rows of one pixel's logits, vectorised (kernels/cpu_exp.h), compiled for AVX-512, AVX2+FMA and baseline
// x86-64 and chosen per call (kernels/cpu_isa.h); defined in losses_cpu.cpp. The gradient takes exp() once per
// logit: e_k = exp(x_k - max), then softmax_k = e_k / sum(e), instead of exp(x_k - lse) after a separate pass for
// lse. Results differ from the scalar f64-exp version, and between variants, by a few ulp: the spread PyTorch's own
// CPU kernels have. f64 keeps the scalar path.
struct CeRows {
  float (*lse)(const float*, int64_t);
  void (*grad)(const float*, int64_t, int64_t, float, float*);
};
CeRows ce_rows();

inline float ce_row_lse(const CeRows& rows, const float* x, int64_t c) { return rows.lse(x, c); }
inline void ce_row_grad(const CeRows& rows, const float* x, int64_t c, int64_t y, float scale, float* out) {
  rows.grad(x, c, y, scale, out);
}

// f64: the scalar math of losses_math.h, shared with nothing faster (f64 runs are reference runs).
inline double ce_row_lse(const CeRows&, const double* x, int64_t c) { return log_sum_exp(x, c); }
inline void ce_row_grad(const CeRows&, const double* x, int64_t c, int64_t y, double scale, double* out) {
  double lse = log_sum_exp(x, c);
  for (int64_t k = 0; k < c; ++k) out[k] = ce_logit_grad(x[k], lse, k == y, scale);
}

}  // namespace mtinet::kernels::losses_cpu
