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

#include "kernels/cpu_isa.h"
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

  UpsampledPixel<T> at(int64_t b, int64_t oy, int64_t ox) const {
    return upsampled_pixel(g.pred, b, g.h, g.w, g.c, ty[size_t(oy)], tx[size_t(ox)]);
  }
};

// A forward chunk's state: where label pixel i lies, followed from one pixel to the next without dividing (the
// forward visits every pixel in order), and the interpolated channels of the current pixel.
template <class T>
struct Cursor {
  int64_t current = -1, b = 0, oy = 0, ox = 0;
  std::vector<T> channels;

  UpsampledPixel<T> pixel(const Upsample<T>& u, int64_t i) {
    if (i == current + 1 && current >= 0) {
      if (++ox == u.g.ow) {
        ox = 0;
        if (++oy == u.g.oh) {
          oy = 0;
          ++b;
        }
      }
    } else if (i != current) {
      const int64_t row = i / u.g.ow;
      ox = i - row * u.g.ow;
      oy = row % u.g.oh;
      b = row / u.g.oh;
    }
    current = i;
    return u.at(b, oy, ox);
  }
};

// Channels [0, c) of one interpolated pixel into out, the expression resize_bilinear's loop evaluates. The AVX2
// variant is compiled without FMA, so its products and sums round as the baseline's: wider vectors, same bits.
template <class T>
[[gnu::always_inline]] inline void blend_channels_body(const UpsampledPixel<T>& s, int64_t c, T* __restrict out) {
  const T* __restrict p00 = s.p00;
  const T* __restrict p01 = s.p01;
  const T* __restrict p10 = s.p10;
  const T* __restrict p11 = s.p11;
  const LinearTap<T> vy = s.vy, vx = s.vx;
  for (int64_t k = 0; k < c; ++k) out[k] = bilinear_blend(vy, vx, p00[k], p01[k], p10[k], p11[k]);
}
[[gnu::target("avx2")]] void blend_channels_avx2(const UpsampledPixel<float>& s, int64_t c, float* out) {
  blend_channels_body(s, c, out);
}
void blend_channels_baseline(const UpsampledPixel<float>& s, int64_t c, float* out) { blend_channels_body(s, c, out); }

using BlendChannels = void (*)(const UpsampledPixel<float>&, int64_t, float*);
BlendChannels blend_channels_f32() {
  return cpu_isa() >= CpuIsa::Avx2 ? blend_channels_avx2 : blend_channels_baseline;
}

// The interpolated channels of pixel s in buf (resized to c); f64 runs are reference runs and stay scalar.
inline const float* interpolated(BlendChannels blend, const UpsampledPixel<float>& s, int64_t c,
                                 std::vector<float>& buf) {
  buf.resize(size_t(c));
  blend(s, c, buf.data());
  return buf.data();
}
inline const double* interpolated(BlendChannels, const UpsampledPixel<double>& s, int64_t c,
                                  std::vector<double>& buf) {
  buf.resize(size_t(c));
  blend_channels_body(s, c, buf.data());
  return buf.data();
}

// Low-resolution rows per band: enough bands for the threads, but whole images when one thread runs.
int64_t bands_per_image(int64_t n, int64_t h) {
  const int64_t want = (2 * int64_t(omp_get_max_threads()) + n - 1) / n;
  return want < 1 ? 1 : (want > h ? h : want);
}

// gx = the adjoint of the upsampling applied to the per-pixel gradients: pixel_grad(i, s, g, scratch) writes label
// pixel i's c gradient values into g (s: its interpolated prediction; scratch: the band's buffer) and returns false
// when they are all zero.
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
    std::vector<T> grad(static_cast<size_t>(c)), channels;
    for (int64_t oy = u.ry[size_t(first)].begin; oy < u.ry[size_t(last - 1)].end; ++oy) {
      const LinearTap<T>& vy = u.ty[size_t(oy)];
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        const int64_t pixel = (b * g.oh + oy) * g.ow + ox;
        const LinearTap<T>& vx = u.tx[size_t(ox)];
        if (!pixel_grad(pixel, upsampled_pixel(g.pred, b, g.h, g.w, c, vy, vx), grad.data(), channels)) continue;
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
            T* __restrict acc = row + ix * c;
            const T* __restrict gp = grad.data();
            for (int64_t k = 0; k < c; ++k) acc[k] += wgt * gp[k];
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
  const BlendChannels blend = blend_channels_f32();
  const int64_t c = u.g.c;
  Sums<2> s = fixed_order_sum<2>(u.pixels(), Cursor<T>{}, [&](int64_t i, Sums<2>& acc, Cursor<T>& cur) {
    const UpsampledPixel<T> p = cur.pixel(u, i);
    const int64_t y = lab[i];
    if (y == ignore_index) return;
    const T* x = interpolated(blend, p, c, cur.channels);
    acc[0] += double(ce_row_lse(rows, x, c) - x[y]);  // as losses_cpu.cpp's ce_forward
    acc[1] += 1.0;
  });
  loss.data<T>()[0] = T(mean_or_zero(s[0], s[1]));
  n_valid.data<double>()[0] = s[1];
}

template <class T>
void ce_backward(const Upsample<T>& u, const int64_t* lab, int64_t ignore_index, T scale, T* gx) {
  const CeRows rows = ce_rows();
  const BlendChannels blend = blend_channels_f32();
  const int64_t c = u.g.c;
  scatter_backward(u, gx, [&](int64_t i, const UpsampledPixel<T>& s, T* g, std::vector<T>& channels) {
    const int64_t y = lab[i];
    if (y == ignore_index) return false;
    ce_row_grad(rows, interpolated(blend, s, c, channels), c, y, scale, g);
    return true;
  });
}

// ---- masked L1 (items are elements: pixel i / c, channel i % c) ----

template <class T>
void l1_forward(const Upsample<T>& u, const T* l, T invalid, Tensor& loss, Tensor& n_valid) {
  const int64_t c = u.g.c;
  Sums<2> s = fixed_order_sum<2>(u.pixels() * c, Cursor<T>{}, [&](int64_t i, Sums<2>& acc, Cursor<T>& cur) {
    const int64_t pixel = c == 1 ? i : i / c;
    const UpsampledPixel<T> p = cur.pixel(u, pixel);
    if (!l1_valid(l[i], invalid)) return;
    acc[0] += double(magnitude(p[i - pixel * c] - l[i]));
    acc[1] += 1.0;
  });
  loss.data<T>()[0] = T(mean_or_zero(s[0], s[1]));
  n_valid.data<double>()[0] = s[1];
}

template <class T>
void l1_backward(const Upsample<T>& u, const T* l, T invalid, T scale, T* gx) {
  const int64_t c = u.g.c;
  scatter_backward(u, gx, [&](int64_t i, const UpsampledPixel<T>& s, T* g, std::vector<T>&) {
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
  Sums<2> s = fixed_order_sum<2>(u.pixels(), Cursor<T>{}, [&](int64_t i, Sums<2>& acc, Cursor<T>& cur) {
    const UpsampledPixel<T> p = cur.pixel(u, i);
    if (!normal_label_valid(l + 3 * i)) return;
    const T x[3] = {p[0], p[1], p[2]};
    acc[0] += double(normals_pixel_l1(x, l + 3 * i));
    acc[1] += 1.0;
  });
  loss.data<T>()[0] = T(mean_or_zero(s[0], 3.0 * s[1]));
  n_valid.data<double>()[0] = s[1];
}

template <class T>
void normals_backward(const Upsample<T>& u, const T* l, T scale, T* gx) {
  scatter_backward(u, gx, [&](int64_t i, const UpsampledPixel<T>& p, T* g, std::vector<T>&) {
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
  Sums<3> s = fixed_order_sum<3>(n, Cursor<T>{}, [&](int64_t i, Sums<3>& acc, Cursor<T>& cur) {
    const int64_t pixel = c == 1 ? i : i / c;
    const UpsampledPixel<T> p = cur.pixel(u, pixel);
    bce_accumulate(p[i - pixel * c], lab[i], acc);  // the same sums as losses_cpu.cpp's bce_forward
  });
  bce_finish<T>(s, n, pos_weight, loss, weight);
}

template <class T>
void bce_backward(const Upsample<T>& u, const T* lab, T w, T scale, T* gx) {
  const int64_t c = u.g.c;
  scatter_backward(u, gx, [&](int64_t i, const UpsampledPixel<T>& s, T* g, std::vector<T>&) {
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
