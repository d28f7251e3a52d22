// Per-pixel math of the four MTI-Net losses, shared by the CPU loops (losses_cpu.cpp) and the CUDA kernels
// (losses.cu), so the CPU tests cover the device code's formulas. The reductions (sums over pixels, the
// division by the number of valid pixels) live with each backend; these functions see one pixel or element.
#pragma once
#include <cmath>
#include <cstdint>

#include "kernels/dispatch.h"
#include "kernels/elementwise/elementwise_math.h"

namespace mtinet::kernels {

// ---- shared by every loss ----

// d(sum/n)/d(term) times the upstream gradient g; 0 when nothing was valid (the loss is then the constant 0).
template <class T> MTINET_HD T mean_grad_scale(T g, double n) { return n > 0 ? T(double(g) / n) : T(0); }

// |v| without the C library's int abs(), which an unqualified abs(float) could pick on the host.
template <class T> MTINET_HD T magnitude(T v) { return v < T(0) ? -v : v; }

// sign(d) with sign(0) = 0: the gradient PyTorch's L1 loss uses, so pred == label gives no gradient.
template <class T> MTINET_HD T l1_sign(T d) { return d > T(0) ? T(1) : (d < T(0) ? T(-1) : T(0)); }

// ---- cross entropy over the channels of one pixel ----

// log(sum_c exp(x_c)), stable: the maximum is subtracted first so no exp() overflows. x is anything x[k] reads
// channel k of: a pointer, or an upsampled pixel interpolated on the fly (upsampled_losses_math.h).
template <class T, class X> MTINET_HD T log_sum_exp_of(const X& x, int64_t c) {
  T m = x[0];
  for (int64_t k = 1; k < c; ++k) {
    const T v = x[k];
    m = v > m ? v : m;
  }
  T s = T(0);
  for (int64_t k = 0; k < c; ++k) s += exp(x[k] - m);
  return m + log(s);
}
template <class T> MTINET_HD T log_sum_exp(const T* x, int64_t c) { return log_sum_exp_of<T>(x, c); }

// Neither ignored nor a class index: an error on CPU, a NaN loss on CUDA.
MTINET_HD bool ce_label_bad(int64_t y, int64_t c, int64_t ignore_index) {
  return y != ignore_index && (y < 0 || y >= c);
}

// NLL of the target class: -log_softmax(x)_y = lse - x_y.
template <class T, class X> MTINET_HD T ce_pixel_loss_of(const X& x, int64_t c, int64_t y) {
  return log_sum_exp_of<T>(x, c) - x[y];
}
template <class T> MTINET_HD T ce_pixel_loss(const T* x, int64_t c, int64_t y) { return ce_pixel_loss_of<T>(x, c, y); }

// d loss / d x_k = (softmax_k - [k == y]) * scale, with softmax_k = exp(x_k - lse).
template <class T> MTINET_HD T ce_logit_grad(T x, T lse, bool is_target, T scale) {
  return (exp(x - lse) - (is_target ? T(1) : T(0))) * scale;
}

// ---- masked L1 ----

template <class T> MTINET_HD bool l1_valid(T label, T invalid_value) { return label != invalid_value; }

// ---- normals: L1 after per-pixel L2 normalisation, as F.normalize(p=2, eps=1e-12) ----

constexpr double kNormalizeEps = 1e-12;

// A label pixel is valid unless it is the zero vector.
template <class T> MTINET_HD bool normal_label_valid(const T* l) { return l[0] != T(0) || l[1] != T(0) || l[2] != T(0); }

template <class T> MTINET_HD T normal_norm(const T* x) { return sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]); }

// The divisor max(||x||, eps).
template <class T> MTINET_HD T normal_divisor(T norm) { return norm > T(kNormalizeEps) ? norm : T(kNormalizeEps); }

// sum_c |x_c / max(||x||, eps) - l_c|
template <class T> MTINET_HD T normals_pixel_l1(const T* x, const T* l) {
  T d = normal_divisor(normal_norm(x));
  return magnitude(x[0] / d - l[0]) + magnitude(x[1] / d - l[1]) + magnitude(x[2] / d - l[2]);
}

// Backward of scale * sum_c |n_c - l_c| with n = x / max(||x||, eps). With s_c = scale * sign(n_c - l_c):
// where the norm is the divisor (||x|| >= eps, PyTorch's clamp_min passes the gradient at equality) the Jacobian of
// x/||x|| is (I - n n^T)/||x||, so gx = (s - n (n.s)) / ||x||; below eps the divisor is the constant eps: gx = s/eps.
template <class T> MTINET_HD void normals_pixel_grad(const T* x, const T* l, T scale, T* gx) {
  T norm = normal_norm(x);
  T d = normal_divisor(norm);
  T n[3], s[3];
  for (int c = 0; c < 3; ++c) {
    n[c] = x[c] / d;
    s[c] = scale * l1_sign(n[c] - l[c]);
  }
  if (norm >= T(kNormalizeEps)) {
    T ns = n[0] * s[0] + n[1] * s[1] + n[2] * s[2];
    for (int c = 0; c < 3; ++c) gx[c] = (s[c] - n[c] * ns) / norm;
  } else {
    for (int c = 0; c < 3; ++c) gx[c] = s[c] / d;
  }
}

// ---- balanced BCE with logits ----

MTINET_HD bool bce_positive(double label) { return label >= 0.5; }

// The reference's stable BCE term: x*(y - [x>=0]) - log(1 + exp(x - 2x[x>=0])), where x - 2x[x>=0] = -|x| never
// exponentiates a positive number. It equals -BCE(sigmoid(x), y); log1p keeps it accurate for large |x|.
template <class T> MTINET_HD T bce_loss_val(T x, bool y) {
  T z = x >= T(0) ? T(1) : T(0);
  return x * ((y ? T(1) : T(0)) - z) - log1p(exp(-magnitude(x)));
}

// d/dx of -coef * loss_val times scale, with d loss_val/dx = y - sigmoid(x) on both sides of 0 and coef = w for
// positives, 1 - w for negatives.
template <class T> MTINET_HD T bce_logit_grad(T x, bool y, T w, T scale) {
  T coef = y ? w : T(1) - w;
  return coef * (sigmoid_fwd(x) - (y ? T(1) : T(0))) * scale;
}

}  // namespace mtinet::kernels
