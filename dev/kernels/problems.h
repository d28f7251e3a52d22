// The two problems of the kernel study track, their sizes at MTI-Net's shapes, and the math every version shares.
//
// This header is plain C++ (the CPU runner includes it) and CUDA (every version includes it): DK_HD functions run on
// both, so the plain CPU loops in reference.h and the CUDA kernels decode indices the same way.
#pragma once
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#ifdef __CUDACC__
#define DK_HD __host__ __device__ __forceinline__
#else
#define DK_HD inline
#endif

namespace devk {

// ---- convolution as an implicit GEMM ---------------------------------------------------------------------------
// x: NHWC {n, h, w, cin}; w: OHWI {cout, kh, kw, cin} (as mtinet stores conv weights); y: NHWC {n, ho, wo, cout}.
// Viewed as a GEMM  Y[M][Cout] = A[M][K] * W[Cout][K]^T  with
//   M = n*ho*wo   output pixels (GEMM rows),
//   K = kh*kw*cin one receptive field, in OHWI order: k = (tap_y*kw + tap_x)*cin + ci,
// and A[m][k] the input pixel under tap (tap_y, tap_x) of output pixel m, channel ci, or 0 in the padding.
// "Implicit": A (the im2col matrix, K times larger than x for a 3x3) is never written out; each kernel computes the
// address of A[m][k] when it loads it.
struct ConvProblem {
  int n = 0, h = 0, w = 0, cin = 0;
  int cout = 0, kh = 0, kw = 0;
  int stride = 1, pad = 0;
  int ho = 0, wo = 0;

  DK_HD int64_t M() const { return int64_t(n) * ho * wo; }
  DK_HD int K() const { return kh * kw * cin; }
  double flops() const { return 2.0 * double(M()) * cout * K(); }
  std::string str() const;  // "8x120x160x18 3x3/1 -> 18"
};
ConvProblem make_conv(int n, int h, int w, int cin, int cout, int k, int stride = 1);

// Output pixel m -> the input coordinates of its receptive field's top-left corner (may be negative: padding).
struct PixelOrigin {
  int64_t image_base;  // element offset of image n in x
  int iy, ix;          // top-left input row and column
};
DK_HD PixelOrigin pixel_origin(const ConvProblem& p, int64_t m) {
  const int ox = int(m % p.wo);
  const int oy = int((m / p.wo) % p.ho);
  const int64_t img = m / (int64_t(p.wo) * p.ho);
  return {img * p.h * p.w * p.cin, oy * p.stride - p.pad, ox * p.stride - p.pad};
}
// Element offset in x of A[m][k] for the pixel whose origin is o, or -1 when the tap falls in the zero padding.
DK_HD int64_t im2col_offset(const ConvProblem& p, const PixelOrigin& o, int k) {
  const int ci = k % p.cin;
  const int tap = k / p.cin;
  const int y = o.iy + tap / p.kw;
  const int x = o.ix + tap % p.kw;
  if (y < 0 || y >= p.h || x < 0 || x >= p.w) return -1;
  return o.image_base + (int64_t(y) * p.w + x) * p.cin + ci;
}

// ---- BatchNorm (training mode) + ReLU ---------------------------------------------------------------------------
// x: {rows, c} (NHWC viewed as rows of channels, rows = n*h*w). Per channel: the batch mean and biased variance,
// then y = max(0, (x - mean) / sqrt(var + eps) * gamma + beta). The outputs are y, mean and var (what the training
// step saves for backward and folds into the running statistics).
struct BnProblem {
  int n = 0, h = 0, w = 0, c = 0;
  float eps = 1e-5f;
  DK_HD int64_t rows() const { return int64_t(n) * h * w; }
  DK_HD int64_t numel() const { return rows() * c; }
  // Minimal traffic of a training-mode BN: x is read twice (statistics, then apply: 8 MiB+ tensors do not stay in
  // L2 between the passes at MTI-Net's sizes) and y written once.
  double bytes() const { return 3.0 * 4.0 * double(numel()); }
  std::string str() const;  // "8x120x160x18"
};
BnProblem make_bn(int n, int h, int w, int c);

// y for one element from the channel's scale = gamma*invstd and shift = beta - mean*scale (every version folds the
// four per-channel numbers into these two once, so the per-element work is one FMA and a max).
DK_HD float bn_relu_apply(float x, float scale, float shift) {
  const float v = x * scale + shift;
  return v > 0.f ? v : 0.f;
}

// The backward with every per-channel quantity folded: gx = k*g + a*x + b, with g = gy masked by the ReLU and
//   k = gamma*invstd,  a = -k*invstd*dgamma/rows,  b = -k*dbeta/rows - a*mean
// (expand gamma*invstd * (g - dbeta/rows - (x - mean)*invstd*dgamma/rows)): three numbers per channel, one pass.
struct BnBackwardCoefs {
  float k, a, b;
};
DK_HD BnBackwardCoefs bn_backward_coefs(float gamma, float mean, float var, float eps, double dgamma, double dbeta,
                                        double rows) {
  const double invstd = 1.0 / sqrt(double(var) + double(eps));
  const double k = double(gamma) * invstd;
  const double a = -k * invstd * dgamma / rows;
  return {float(k), float(a), float(-k * dbeta / rows - a * double(mean))};
}
DK_HD float bn_relu_grad(float x, float y, float gy, const BnBackwardCoefs& f) {
  const float g = y > 0.f ? gy : 0.f;
  return f.k * g + f.a * x + f.b;
}

// Welford's running (count, mean, M2) and Chan et al.'s merge of two such states: one pass over the data with the
// accuracy of two passes (sum and sum-of-squares in one pass cancel catastrophically when |mean| >> std).
struct Welford {
  float count = 0.f, mean = 0.f, m2 = 0.f;
  DK_HD void add(float v) {
    count += 1.f;
    const float d = v - mean;
    mean += d / count;
    m2 += d * (v - mean);
  }
  DK_HD void merge(const Welford& o) {
    if (o.count == 0.f) return;
    if (count == 0.f) { *this = o; return; }
    const float n = count + o.count;
    const float d = o.mean - mean;
    const float fo = o.count / n;
    mean += d * fo;
    m2 += o.m2 + d * d * count * fo;
    count = n;
  }
};

// The problems at MTI-Net's shapes (NYUD, HRNet-W18-small-v2, batch 8, 480x640 input; the 1/4-scale branch is
// 120x160). small = batch 1 at a quarter of the area, for quick checks.
std::vector<ConvProblem> conv_problems(bool small);
std::vector<BnProblem> bn_problems(bool small);

}  // namespace devk
