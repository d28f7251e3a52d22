// CPU loops of the upsampled losses: each label pixel's prediction is interpolated from the low-resolution tensor
// through per-axis tap tables (resize_bilinear_math.h), then goes through the plain losses' per-pixel math.
//
// Forward: the plain loss's fixed-order sum over the same items (pixels, or elements for L1 and BCE), so the loss is
// its bits. Backward: the low-resolution rows of each image are cut into bands; a band computes the gradient of
// every label row that reads one of its rows (a label row straddling two bands is computed by both) and adds it,
// through the taps, into its own rows only. No two threads write the same element, and each element receives its
// contributions in label-row, then label-column order, the order of resize_bilinear's gather: the result does not
// depend on the bands, hence not on the thread count, and equals the unfused composition's bits.
#include <omp.h>

#include <cstdint>
#include <vector>

#include "kernels/dispatch.h"
#include "kernels/losses/losses.h"
#include "kernels/losses/losses_cpu_common.h"
#include "kernels/losses/losses_math.h"
#include "kernels/losses/upsampled_losses.h"
#include "kernels/losses/upsampled_losses_math.h"

namespace mtinet::kernels {

namespace {

using namespace losses_cpu;

// The geometry with tap tables for every label row and column, and for every low-resolution row the label rows
// reading it.
template <class T>
struct Upsample {
  UpsampleGeometry<T> g;
  std::vector<LinearTap<T>> ty, tx;
  std::vector<OutputRange> ry;

  Upsample(const Tensor& pred, int64_t oh, int64_t ow)
      : g(upsample_geometry(pred.data<T>(), pred.dim(0), pred.dim(1), pred.dim(2), pred.dim(3), oh, ow)),
        ty(axis_taps<T>(g.h, oh, 0.0)),
        tx(axis_taps<T>(g.w, ow, 0.0)),
        ry(axis_ranges<T>(g.h, oh, 0.0)) {}

  int64_t pixels() const { return g.n * g.oh * g.ow; }

  // Label pixel i (row-major over n, oh, ow).
  UpsampledPixel<T> at(int64_t i) const {
    const int64_t ox = i % g.ow, oy = (i / g.ow) % g.oh, b = i / (g.ow * g.oh);
    return upsampled_pixel(g.pred, b, g.h, g.w, g.c, ty[size_t(oy)], tx[size_t(ox)]);
  }
};

// Channels [0, c) of one interpolated pixel, into a buffer reused by the calling thread.
template <class T>
const T* interpolated(const UpsampledPixel<T>& s, int64_t c) {
  static thread_local std::vector<T> buf;
  if (int64_t(buf.size()) < c) buf.resize(size_t(c));
  for (int64_t k = 0; k < c; ++k) buf[size_t(k)] = s[k];
  return buf.data();
}

// Low-resolution rows per band: enough bands for the threads, but whole images when one thread runs.
int64_t bands_per_image(int64_t n, int64_t h) {
  const int64_t want = (2 * int64_t(omp_get_max_threads()) + n - 1) / n;
  return want < 1 ? 1 : (want > h ? h : want);
}

// gx = the adjoint of the upsampling applied to the per-pixel gradients: pixel_grad(i, s, g) writes label pixel i's
// c gradient values into g (s: its interpolated prediction) and returns false when they are all zero.
template <class T, class PixelGrad>
void scatter_backward(const Upsample<T>& u, T* gx, PixelGrad pixel_grad) {
  const UpsampleGeometry<T>& g = u.g;
  const int64_t c = g.c, per_image = bands_per_image(g.n, g.h);
  parallel_for(g.n * g.h * g.w * c, [&](int64_t i) { gx[i] = T(0); });
#pragma omp parallel for schedule(dynamic, 1) if (g.n * per_image > 1)
  for (int64_t band = 0; band < g.n * per_image; ++band) {
    const int64_t b = band / per_image, j = band % per_image;
    const int64_t first = g.h * j / per_image, last = g.h * (j + 1) / per_image;  // own rows [first, last)
    if (first == last) continue;
    std::vector<T> grad(static_cast<size_t>(c));
    for (int64_t oy = u.ry[size_t(first)].begin; oy < u.ry[size_t(last - 1)].end; ++oy) {
      const LinearTap<T>& vy = u.ty[size_t(oy)];
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        const int64_t pixel = (b * g.oh + oy) * g.ow + ox;
        const LinearTap<T>& vx = u.tx[size_t(ox)];
        if (!pixel_grad(pixel, upsampled_pixel(g.pred, b, g.h, g.w, c, vy, vx), grad.data())) continue;
        // Each distinct tap once, weighted as resize_bilinear's gather weights it (tap_weight sums both taps when
        // they coincide at the last index).
        for (int ty = 0; ty < 2; ++ty) {
          const int64_t iy = ty == 0 ? vy.i0 : vy.i1;
          if (iy < first || iy >= last || (ty == 1 && vy.i1 == vy.i0)) continue;
          const T wy = tap_weight(vy, iy);
          T* row = gx + (b * g.h + iy) * g.w * c;
          for (int tx = 0; tx < 2; ++tx) {
            const int64_t ix = tx == 0 ? vx.i0 : vx.i1;
            if (tx == 1 && vx.i1 == vx.i0) continue;
            const T wgt = wy * tap_weight(vx, ix);
            T* acc = row + ix * c;
            for (int64_t k = 0; k < c; ++k) acc[k] += wgt * grad[size_t(k)];
          }
        }
      }
    }
  }
}

// ---- cross entropy ----

template <class T>
void ce_forward(const Upsample<T>& u, const int64_t* lab, int64_t ignore_index, Tensor& loss, Tensor& n_valid) {
  const CeRows rows = ce_rows();
  const int64_t c = u.g.c;
  Sums<2> s = fixed_order_sum<2>(u.pixels(), [&](int64_t i, Sums<2>& acc) {
    const int64_t y = lab[i];
    if (y == ignore_index) return;
    const T* x = interpolated(u.at(i), c);
    acc[0] += double(ce_row_lse(rows, x, c) - x[y]);  // as losses_cpu.cpp's ce_forward
    acc[1] += 1.0;
  });
  loss.data<T>()[0] = T(mean_or_zero(s[0], s[1]));
  n_valid.data<double>()[0] = s[1];
}

template <class T>
void ce_backward(const Upsample<T>& u, const int64_t* lab, int64_t ignore_index, T scale, T* gx) {
  const CeRows rows = ce_rows();
  const int64_t c = u.g.c;
  scatter_backward(u, gx, [&](int64_t i, const UpsampledPixel<T>& s, T* g) {
    const int64_t y = lab[i];
    if (y == ignore_index) return false;
    ce_row_grad(rows, interpolated(s, c), c, y, scale, g);
    return true;
  });
}

// ---- masked L1 (items are elements: pixel i / c, channel i % c) ----

template <class T>
void l1_forward(const Upsample<T>& u, const T* l, T invalid, Tensor& loss, Tensor& n_valid) {
  const int64_t c = u.g.c;
  Sums<2> s = fixed_order_sum<2>(u.pixels() * c, [&](int64_t i, Sums<2>& acc) {
    if (!l1_valid(l[i], invalid)) return;
    acc[0] += double(magnitude(u.at(i / c)[i % c] - l[i]));
    acc[1] += 1.0;
  });
  loss.data<T>()[0] = T(mean_or_zero(s[0], s[1]));
  n_valid.data<double>()[0] = s[1];
}

template <class T>
void l1_backward(const Upsample<T>& u, const T* l, T invalid, T scale, T* gx) {
  const int64_t c = u.g.c;
  scatter_backward(u, gx, [&](int64_t i, const UpsampledPixel<T>& s, T* g) {
    const T* li = l + i * c;
    bool any = false;
    for (int64_t k = 0; k < c; ++k) {
      const bool valid = l1_valid(li[k], invalid);
      g[k] = valid ? l1_sign(s[k] - li[k]) * scale : T(0);
      any = any || valid;
    }
    return any;
  });
}

// ---- normals ----

template <class T>
void normals_forward(const Upsample<T>& u, const T* l, Tensor& loss, Tensor& n_valid) {
  Sums<2> s = fixed_order_sum<2>(u.pixels(), [&](int64_t i, Sums<2>& acc) {
    if (!normal_label_valid(l + 3 * i)) return;
    const UpsampledPixel<T> p = u.at(i);
    const T x[3] = {p[0], p[1], p[2]};
    acc[0] += double(normals_pixel_l1(x, l + 3 * i));
    acc[1] += 1.0;
  });
  loss.data<T>()[0] = T(mean_or_zero(s[0], 3.0 * s[1]));
  n_valid.data<double>()[0] = s[1];
}

template <class T>
void normals_backward(const Upsample<T>& u, const T* l, T scale, T* gx) {
  scatter_backward(u, gx, [&](int64_t i, const UpsampledPixel<T>& p, T* g) {
    if (!normal_label_valid(l + 3 * i)) return false;
    const T x[3] = {p[0], p[1], p[2]};
    normals_pixel_grad(x, l + 3 * i, scale, g);
    return true;
  });
}

// ---- balanced BCE (items are elements) ----

template <class T>
void bce_forward(const Upsample<T>& u, const T* lab, std::optional<double> pos_weight, Tensor& loss,
                 Tensor& weight) {
  const int64_t c = u.g.c, n = u.pixels() * c;
  // acc: sum of positive terms, sum of negative terms, number of negatives (as losses_cpu.cpp's bce_forward).
  Sums<3> s = fixed_order_sum<3>(n, [&](int64_t i, Sums<3>& acc) {
    bool y = bce_positive(double(lab[i]));
    double term = -double(bce_loss_val(u.at(i / c)[i % c], y));
    acc[y ? 0 : 1] += term;
    if (!y) acc[2] += 1.0;
  });
  double w = pos_weight ? *pos_weight : s[2] / double(n);
  loss.data<T>()[0] = T((w * s[0] + (1.0 - w) * s[1]) / double(n));
  weight.data<double>()[0] = w;
}

template <class T>
void bce_backward(const Upsample<T>& u, const T* lab, T w, T scale, T* gx) {
  const int64_t c = u.g.c;
  scatter_backward(u, gx, [&](int64_t i, const UpsampledPixel<T>& s, T* g) {
    for (int64_t k = 0; k < c; ++k) g[k] = bce_logit_grad(s[k], bce_positive(double(lab[i * c + k])), w, scale);
    return true;
  });
}

}  // namespace

void upsampled_loss_forward_cpu(const DenseLoss& loss, const Tensor& pred, const Tensor& label, Tensor& out,
                                Tensor& stat) {
  const int64_t oh = label.dim(1), ow = label.dim(2);
  if (loss.kind == DenseLossKind::CrossEntropy) {
    // Checked before the parallel loop: an exception must not leave an OpenMP region.
    check_class_labels(label.data<int64_t>(), label.numel(), pred.dim(3), loss.ignore_index, label.describe());
  }
  MTINET_FLOAT_TYPES(pred.dtype(), T, {
    const Upsample<T> u(pred, oh, ow);
    switch (loss.kind) {
      case DenseLossKind::CrossEntropy: ce_forward(u, label.data<int64_t>(), loss.ignore_index, out, stat); break;
      case DenseLossKind::MaskedL1: l1_forward(u, label.data<T>(), T(loss.invalid_value), out, stat); break;
      case DenseLossKind::NormalsL1: normals_forward(u, label.data<T>(), out, stat); break;
      case DenseLossKind::BalancedBce: bce_forward(u, label.data<T>(), loss.pos_weight, out, stat); break;
    }
  });
}

void upsampled_loss_backward_cpu(const DenseLoss& loss, const Tensor& pred, const Tensor& label, const Tensor& stat,
                                 const Tensor& grad_loss, Tensor& grad_pred) {
  const int64_t oh = label.dim(1), ow = label.dim(2);
  MTINET_FLOAT_TYPES(pred.dtype(), T, {
    const Upsample<T> u(pred, oh, ow);
    const T g = upstream<T>(grad_loss);
    T* gx = grad_pred.data<T>();
    switch (loss.kind) {
      case DenseLossKind::CrossEntropy:
        ce_backward(u, label.data<int64_t>(), loss.ignore_index, mean_grad_scale(g, losses_cpu::stat(stat)), gx);
        break;
      case DenseLossKind::MaskedL1:
        l1_backward(u, label.data<T>(), T(loss.invalid_value), mean_grad_scale(g, losses_cpu::stat(stat)), gx);
        break;
      case DenseLossKind::NormalsL1:
        normals_backward(u, label.data<T>(), mean_grad_scale(g, 3.0 * losses_cpu::stat(stat)), gx);
        break;
      case DenseLossKind::BalancedBce:
        bce_backward(u, label.data<T>(), T(losses_cpu::stat(stat)),
                     mean_grad_scale(g, double(u.pixels() * u.g.c)), gx);
        break;
    }
  });
}

}  // namespace mtinet::kernels
