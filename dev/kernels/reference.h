// Plain CPU loops for both problems: the definition every faster kernel is checked against, short enough to read
// as the specification. They accumulate in double. mtinet's own CPU kernels (im2col + OpenBLAS, and the f64
// BatchNorm of kernels/batch_norm/) are checked against these loops by `dev_kernels test cpu` and then serve as the
// fast reference at full size.
#pragma once
#include <cmath>
#include <vector>

#include "dev/kernels/problems.h"

namespace devk {

// y[m][co] = sum_k A[m][k] * w[co][k]   (the implicit GEMM of problems.h, one output at a time)
inline void conv_forward_loop(const ConvProblem& p, const float* x, const float* w, float* y) {
  const int K = p.K();
  for (int64_t m = 0; m < p.M(); ++m) {
    const PixelOrigin o = pixel_origin(p, m);
    for (int co = 0; co < p.cout; ++co) {
      double acc = 0.0;
      for (int k = 0; k < K; ++k) {
        const int64_t xi = im2col_offset(p, o, k);
        if (xi >= 0) acc += double(x[xi]) * double(w[int64_t(co) * K + k]);
      }
      y[m * p.cout + co] = float(acc);
    }
  }
}

// Training-mode BatchNorm + ReLU, two passes per channel (mean, then the variance around it).
inline void bn_relu_loop(const BnProblem& p, const float* x, const float* gamma, const float* beta, float* y,
                         float* mean, float* var) {
  for (int c = 0; c < p.c; ++c) {
    double s = 0.0;
    for (int64_t r = 0; r < p.rows(); ++r) s += x[r * p.c + c];
    const double mu = s / double(p.rows());
    double ss = 0.0;
    for (int64_t r = 0; r < p.rows(); ++r) ss += (x[r * p.c + c] - mu) * (x[r * p.c + c] - mu);
    const double v = ss / double(p.rows());
    mean[c] = float(mu);
    var[c] = float(v);
    const double scale = double(gamma[c]) / std::sqrt(v + double(p.eps));
    const double shift = double(beta[c]) - mu * scale;
    for (int64_t r = 0; r < p.rows(); ++r) y[r * p.c + c] = float(std::fmax(0.0, x[r * p.c + c] * scale + shift));
  }
}

// Its gradient, given gy = dL/dy and the forward's x, y (for the ReLU mask), mean and var: g = gy where y > 0,
// dbeta = sum(g), dgamma = sum(g * xhat), gx = gamma*invstd * (g - dbeta/rows - xhat*dgamma/rows).
inline void bn_relu_backward_loop(const BnProblem& p, const float* x, const float* y, const float* gy,
                                  const float* gamma, const float* mean, const float* var, float* gx, float* dgamma,
                                  float* dbeta) {
  const double rows = double(p.rows());
  for (int c = 0; c < p.c; ++c) {
    const double invstd = 1.0 / std::sqrt(double(var[c]) + double(p.eps));
    double sg = 0.0, sgx = 0.0;
    for (int64_t r = 0; r < p.rows(); ++r) {
      const int64_t i = r * p.c + c;
      const double g = y[i] > 0.f ? gy[i] : 0.0;
      sg += g;
      sgx += g * (x[i] - double(mean[c])) * invstd;
    }
    dbeta[c] = float(sg);
    dgamma[c] = float(sgx);
    for (int64_t r = 0; r < p.rows(); ++r) {
      const int64_t i = r * p.c + c;
      const double g = y[i] > 0.f ? gy[i] : 0.0;
      const double xhat = (x[i] - double(mean[c])) * invstd;
      gx[i] = float(double(gamma[c]) * invstd * (g - sg / rows - xhat * sgx / rows));
    }
  }
}

}  // namespace devk
