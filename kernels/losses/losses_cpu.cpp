// CPU loops for the loss kernels: OpenMP over pixels, templated on float/double, per-pixel math from losses_math.h.
// Forward sums are accumulated in double over fixed chunks, then the chunk partials in order, so a loss is bitwise
// the same for any thread count.
#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/dispatch.h"
#include "kernels/losses/losses.h"
#include "kernels/losses/losses_math.h"

namespace mtinet::kernels {

namespace {

constexpr int64_t kChunk = 2048;  // items per partial sum: fixed, so the summation order never depends on threads

template <int K>
using Sums = std::array<double, K>;

// Sums K per-item terms over items [0, n): item(i, acc) adds item i's terms into acc.
template <int K, class Item>
Sums<K> fixed_order_sum(int64_t n, Item item) {
  int64_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<Sums<K>> partial(size_t(chunks), Sums<K>{});
#pragma omp parallel for schedule(static) if (chunks > 1)
  for (int64_t c = 0; c < chunks; ++c) {
    Sums<K> acc{};
    int64_t end = std::min(n, (c + 1) * kChunk);
    for (int64_t i = c * kChunk; i < end; ++i) item(i, acc);
    partial[size_t(c)] = acc;
  }
  Sums<K> total{};
  for (const Sums<K>& p : partial)
    for (int k = 0; k < K; ++k) total[size_t(k)] += p[size_t(k)];
  return total;
}

// Applies f(i) for i in [0, n) in parallel; small loops stay on one thread to avoid OpenMP overhead.
template <class F>
void parallel_for(int64_t n, F f) {
#pragma omp parallel for schedule(static) if (n > 4096)
  for (int64_t i = 0; i < n; ++i) f(i);
}

// sum / n, or 0 when nothing was valid.
double mean_or_zero(double sum, double n) { return n > 0 ? sum / n : 0.0; }

template <class T>
T upstream(const Tensor& grad_loss) { return grad_loss.data<T>()[0]; }

double stat(const Tensor& s) { return s.data<double>()[0]; }

// ---- cross entropy ----

template <class T>
void ce_forward(const T* x, const int64_t* lab, int64_t pixels, int64_t c, int64_t ignore_index, Tensor& loss,
                Tensor& n_valid) {
  Sums<2> s = fixed_order_sum<2>(pixels, [&](int64_t i, Sums<2>& acc) {
    int64_t y = lab[i];
    if (y == ignore_index) return;
    acc[0] += double(ce_pixel_loss(x + i * c, c, y));
    acc[1] += 1.0;
  });
  loss.data<T>()[0] = T(mean_or_zero(s[0], s[1]));
  n_valid.data<double>()[0] = s[1];
}

template <class T>
void ce_backward(const T* x, const int64_t* lab, int64_t pixels, int64_t c, int64_t ignore_index, T scale, T* gx) {
  parallel_for(pixels, [&](int64_t i) {
    const T* row = x + i * c;
    T* out = gx + i * c;
    int64_t y = lab[i];
    if (y == ignore_index) {
      for (int64_t k = 0; k < c; ++k) out[k] = T(0);
      return;
    }
    T lse = log_sum_exp(row, c);
    for (int64_t k = 0; k < c; ++k) out[k] = ce_logit_grad(row[k], lse, k == y, scale);
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
  // acc: sum of positive terms, sum of negative terms, number of negatives.
  Sums<3> s = fixed_order_sum<3>(n, [&](int64_t i, Sums<3>& acc) {
    bool y = bce_positive(double(lab[i]));
    double term = -double(bce_loss_val(x[i], y));
    acc[y ? 0 : 1] += term;
    if (!y) acc[2] += 1.0;
  });
  double w = pos_weight ? *pos_weight : s[2] / double(n);
  loss.data<T>()[0] = T((w * s[0] + (1.0 - w) * s[1]) / double(n));
  weight.data<double>()[0] = w;
}

template <class T>
void bce_backward(const T* x, const T* lab, int64_t n, T w, T scale, T* gx) {
  parallel_for(n, [&](int64_t i) { gx[i] = bce_logit_grad(x[i], bce_positive(double(lab[i])), w, scale); });
}

}  // namespace

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
