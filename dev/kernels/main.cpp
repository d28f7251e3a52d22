// dev_kernels: the runner of the kernel study track (dev/kernels/README.md).
//
//   dev_kernels conv [VERSION] [OPTIONS]   convolution versions 1-4 against cuDNN
//   dev_kernels bn   [VERSION] [OPTIONS]   BatchNorm+ReLU versions 1-3 against mtinet's kernels
//   dev_kernels bnback [VERSION] [OPTIONS] BatchNorm+ReLU backward versions 1-2 against mtinet's kernels
//   dev_kernels all  [OPTIONS]
//     --small       batch 1 at half the height and width
//     --reps N      timed calls per GPU version (10)
//     --cpu-reps N  timed calls of the CPU reference, the best is printed (3)
//   dev_kernels test cpu|cuda                          the checks ctest runs (small, odd shapes)
//
// For each problem at MTI-Net's shapes it computes the reference on the CPU with mtinet's own CPU kernels (timed:
// the CPU side), then runs every GPU version and the baseline, printing the error against the reference, the
// time and GFLOP/s or GB/s. Without a GPU (or without a CUDA build) the CPU side runs and the GPU side says why
// it was skipped. Exit status: 0 all checks passed, 1 a check failed, 2 bad usage, 77 (test cuda) no GPU.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "dev/kernels/gpu.h"
#include "dev/kernels/reference.h"
#include "kernels/batch_norm/batch_norm.h"
#include "kernels/conv/conv2d.h"
#include "kernels/elementwise/elementwise.h"

namespace devk {
namespace {

using mtinet::Tensor;

// Deterministic inputs in [lo, hi) (a 64-bit LCG; the same on every machine).
std::vector<float> uniform(size_t n, uint64_t seed, float lo = -1.f, float hi = 1.f) {
  std::vector<float> v(n);
  uint64_t s = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  for (auto& e : v) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    e = lo + (hi - lo) * float(s >> 40) / float(1 << 24);
  }
  return v;
}

// The best of `reps` calls of f after one untimed call (first touch of the output pages, OpenMP's thread start):
// on a shared machine the minimum is the number that says most about the code.
int g_cpu_reps = 3;
double seconds_of(const std::function<void()>& f) {
  f();
  double best = 1e30;
  for (int i = 0; i < g_cpu_reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

double rel_err(const std::vector<float>& got, const std::vector<float>& ref) {
  double diff = 0, scale = 1e-30;
  for (size_t i = 0; i < ref.size(); ++i) {
    diff = std::max(diff, std::fabs(double(got[i]) - double(ref[i])));
    scale = std::max(scale, std::fabs(double(ref[i])));
  }
  return diff / scale;
}

std::vector<float> to_vector(const Tensor& t) {
  return std::vector<float>(t.data<float>(), t.data<float>() + t.numel());
}

// ---- the CPU references: mtinet's own CPU kernels ----

struct ConvCase {
  ConvProblem p;
  std::vector<float> x, w, y;  // y: the CPU reference output
  double cpu_seconds = 0;
};

ConvCase conv_case(const ConvProblem& p, uint64_t seed) {
  ConvCase c{p, uniform(size_t(p.n) * p.h * p.w * p.cin, seed), {}, {}, 0};
  const float ws = 1.f / std::sqrt(float(p.K()));  // outputs of order 1 whatever K
  c.w = uniform(size_t(p.cout) * p.K(), seed + 1, -ws, ws);
  const Tensor x = Tensor::from_vector<float>({p.n, p.h, p.w, p.cin}, c.x);
  const Tensor w = Tensor::from_vector<float>({p.cout, p.kh, p.kw, p.cin}, c.w);
  Tensor y = Tensor::empty({p.n, p.ho, p.wo, p.cout});
  const mtinet::kernels::Conv2dShape s = mtinet_shape(p);
  c.cpu_seconds = seconds_of([&] { mtinet::kernels::conv2d_forward_cpu(x, w, Tensor(), s, y); });
  c.y = to_vector(y);
  return c;
}

struct BnCase {
  BnProblem p;
  std::vector<float> x, gamma, beta, y, mean, var;
  double cpu_seconds = 0;
};

BnCase bn_case(const BnProblem& p, uint64_t seed) {
  BnCase b{p, uniform(size_t(p.numel()), seed), {}, {}, {}, {}, {}, 0};
  // Channel means far from 0 relative to their spread: where one-pass sum/sum-of-squares statistics fail.
  for (int64_t i = 0; i < p.numel(); ++i) {
    const int c = int(i % p.c);
    b.x[size_t(i)] = b.x[size_t(i)] * float(1 + c % 3) + 3.f + 0.5f * float(c % 5 - 2);
  }
  b.gamma = uniform(size_t(p.c), seed + 1, 0.5f, 1.5f);
  b.beta = uniform(size_t(p.c), seed + 2, -0.5f, 0.5f);
  const Tensor x = Tensor::from_vector<float>({p.rows(), p.c}, b.x);
  const Tensor g = Tensor::from_vector<float>({p.c}, b.gamma);
  const Tensor be = Tensor::from_vector<float>({p.c}, b.beta);
  Tensor mean = Tensor::empty({p.c}), var = Tensor::empty({p.c});
  Tensor y_bn = Tensor::empty({p.rows(), p.c}), y = Tensor::empty({p.rows(), p.c});
  b.cpu_seconds = seconds_of([&] {
    mtinet::kernels::batch_norm_stats_cpu(x, mean, var);
    mtinet::kernels::batch_norm_apply_cpu(x, mean, var, g, be, Tensor(), false, double(p.eps), y_bn);
    mtinet::kernels::relu_forward_cpu(y_bn, y);
  });
  b.y = to_vector(y);
  b.mean = to_vector(mean);
  b.var = to_vector(var);
  return b;
}

struct BnBackwardCase {
  BnCase fwd;  // x, gamma, beta, y, mean, var of the forward
  std::vector<float> gy, gx, dgamma, dbeta;
  double cpu_seconds = 0;
};

BnBackwardCase bn_backward_case(const BnProblem& p, uint64_t seed) {
  BnBackwardCase b{bn_case(p, seed), uniform(size_t(p.numel()), seed + 5), {}, {}, {}, 0};
  const mtinet::Shape rows{p.rows(), p.c};
  const Tensor x = Tensor::from_vector<float>(rows, b.fwd.x), y = Tensor::from_vector<float>(rows, b.fwd.y);
  const Tensor gy = Tensor::from_vector<float>(rows, b.gy);
  const Tensor gamma = Tensor::from_vector<float>({p.c}, b.fwd.gamma);
  const Tensor mean = Tensor::from_vector<float>({p.c}, b.fwd.mean), var = Tensor::from_vector<float>({p.c}, b.fwd.var);
  Tensor g = Tensor::empty(rows), gx = Tensor::empty(rows), dgamma = Tensor::empty({p.c}), dbeta = Tensor::empty({p.c});
  Tensor unused;  // the reduction's masked-gradient output: the ReLU runs separately in this reference
  b.cpu_seconds = seconds_of([&] {
    mtinet::kernels::relu_backward_cpu(y, gy, g);  // y > 0 exactly where the ReLU's input was
    mtinet::kernels::batch_norm_backward_reduce_cpu(g, x, mean, var, Tensor(), double(p.eps), dbeta, dgamma, unused);
    mtinet::kernels::batch_norm_backward_input_cpu(g, x, mean, var, gamma, dbeta, dgamma, double(p.eps), true, gx);
  });
  b.gx = to_vector(gx);
  b.dgamma = to_vector(dgamma);
  b.dbeta = to_vector(dbeta);
  return b;
}

// ---- printing ----

void print_gpu(const std::vector<GpuResult>& rs, double work, bool flops, bool& ok) {
  for (const GpuResult& r : rs) {
    const double rate = r.ms > 0 ? work / (r.ms * 1e-3) / 1e9 : 0;
    std::printf("    %-26s err %.1e %s  %9.3f ms  %8.1f %s\n", r.name.c_str(), r.err, r.ok() ? "ok  " : "FAIL", r.ms,
                rate, flops ? "GFLOP/s" : "GB/s");
    ok = ok && r.ok();
  }
}

// True when the GPU versions can run; otherwise says why not, once per run.
bool gpu_note() {
  const std::string why = gpu_unavailable_reason();
  if (!why.empty())
    std::printf("  GPU versions skipped: %s.\n  They need a CUDA build (MTINET_CUDA=ON) and a GPU; only the CPU "
                "references run.\n", why.c_str());
  return why.empty();
}

bool run_conv(int version, bool small, int reps) {
  bool ok = true;
  std::printf("== convolution forward (implicit GEMM, NHWC x OHWI), versions %s; CPU: mtinet im2col + OpenBLAS\n",
              version ? std::to_string(version).c_str() : "1-4");
  const bool gpu = gpu_note();
  uint64_t seed = 1;
  for (const ConvProblem& p : conv_problems(small)) {
    const ConvCase c = conv_case(p, seed += 10);
    std::printf("  %-26s %6.2f GFLOP   CPU reference %9.2f ms  %8.1f GFLOP/s\n", p.str().c_str(), p.flops() / 1e9,
                c.cpu_seconds * 1e3, p.flops() / c.cpu_seconds / 1e9);
    if (gpu) print_gpu(gpu_conv(p, c.x, c.w, c.y, version, reps), p.flops(), true, ok);
  }
  return ok;
}

bool run_bn(int version, bool small, int reps) {
  bool ok = true;
  std::printf("== BatchNorm (training statistics) + ReLU forward, versions %s; CPU: mtinet batch_norm + relu\n",
              version ? std::to_string(version).c_str() : "1-3");
  const bool gpu = gpu_note();
  uint64_t seed = 7;
  for (const BnProblem& p : bn_problems(small)) {
    const BnCase b = bn_case(p, seed += 10);
    std::printf("  %-26s %6.1f MB moved   CPU reference %9.2f ms  %8.1f GB/s\n", p.str().c_str(), p.bytes() / 1e6,
                b.cpu_seconds * 1e3, p.bytes() / b.cpu_seconds / 1e9);
    if (gpu) print_gpu(gpu_bn(p, b.x, b.gamma, b.beta, b.y, b.mean, b.var, version, reps), p.bytes(), false, ok);
  }
  return ok;
}

bool run_bn_backward(int version, bool small, int reps) {
  bool ok = true;
  std::printf("== BatchNorm (training) + ReLU backward, versions %s; CPU: mtinet relu + batch_norm backward\n",
              version ? std::to_string(version).c_str() : "1-2");
  const bool gpu = gpu_note();
  uint64_t seed = 13;
  for (const BnProblem& p : bn_problems(small)) {
    const BnBackwardCase b = bn_backward_case(p, seed += 10);
    const double bytes = 7.0 * 4.0 * double(p.numel());  // x, y, gy read twice, gx written once
    std::printf("  %-26s %6.1f MB moved   CPU reference %9.2f ms  %8.1f GB/s\n", p.str().c_str(), bytes / 1e6,
                b.cpu_seconds * 1e3, bytes / b.cpu_seconds / 1e9);
    if (gpu)
      print_gpu(gpu_bn_backward(p, b.fwd.x, b.fwd.y, b.gy, b.fwd.gamma, b.fwd.mean, b.fwd.var, b.gx, b.dgamma,
                                b.dbeta, version, reps),
                bytes, false, ok);
  }
  return ok;
}

// ---- the checks ctest runs ----

// Small shapes that hit every edge: channel counts that are and are not multiples of 4, stride 2, padding, pixel
// and channel counts that are not multiples of any tile, a 3-channel input (the stem), tails of numel % 4.
std::vector<ConvProblem> conv_test_problems() {
  return {make_conv(2, 9, 11, 18, 18, 3), make_conv(2, 12, 10, 36, 36, 3), make_conv(1, 13, 17, 64, 72, 3, 2),
          make_conv(2, 8, 7, 270, 270, 1), make_conv(1, 7, 9, 3, 64, 3, 2), make_conv(1, 5, 5, 20, 5, 3)};
}
std::vector<BnProblem> bn_test_problems() {
  return {make_bn(2, 5, 7, 18), make_bn(1, 3, 5, 270), make_bn(3, 4, 4, 36), make_bn(1, 1, 3, 5),
          make_bn(2, 40, 60, 64)};
}

bool check(const char* what, const std::string& shape, double err, double tol) {
  const bool ok = err <= tol;
  std::printf("  %-48s %-22s err %.1e (tol %.0e) %s\n", what, shape.c_str(), err, tol, ok ? "ok" : "FAIL");
  return ok;
}

// The CPU side checks itself: mtinet's CPU kernels (the fast references) against the plain loops of reference.h,
// and the Welford merge every parallel GPU version relies on against the two-pass variance.
bool test_cpu() {
  bool ok = true;
  uint64_t seed = 100;
  for (const ConvProblem& p : conv_test_problems()) {
    const ConvCase c = conv_case(p, seed += 10);
    std::vector<float> y(c.y.size());
    conv_forward_loop(p, c.x.data(), c.w.data(), y.data());
    ok &= check("conv: mtinet CPU kernel vs plain loop", p.str(), rel_err(c.y, y), 1e-5);
  }
  for (const BnProblem& p : bn_test_problems()) {
    const BnCase b = bn_case(p, seed += 10);
    std::vector<float> y(b.y.size()), mean(size_t(p.c)), var(size_t(p.c));
    bn_relu_loop(p, b.x.data(), b.gamma.data(), b.beta.data(), y.data(), mean.data(), var.data());
    const double err = std::max({rel_err(b.y, y), rel_err(b.mean, mean), rel_err(b.var, var)});
    ok &= check("bn+relu: mtinet CPU kernels vs plain loop", p.str(), err, 1e-5);
    // Welford states over interleaved row lanes, merged in chunks as bn_common.cuh does, against two passes.
    std::vector<float> wm(size_t(p.c)), wv(size_t(p.c));
    for (int ch = 0; ch < p.c; ++ch) {
      const int lanes = 8, chunks = 3;
      Welford total;
      for (int k = 0; k < chunks; ++k) {
        Welford chunk;
        for (int l = 0; l < lanes; ++l) {
          Welford lane;
          for (int64_t r = int64_t(k) * lanes + l; r < p.rows(); r += int64_t(chunks) * lanes)
            lane.add(b.x[size_t(r * p.c + ch)]);
          chunk.merge(lane);
        }
        total.merge(chunk);
      }
      wm[size_t(ch)] = total.mean;
      wv[size_t(ch)] = total.m2 / total.count;
    }
    ok &= check("bn: Welford lanes + Chan merge vs two passes", p.str(),
                std::max(rel_err(wm, mean), rel_err(wv, var)), 1e-5);

    // Backward: mtinet's CPU kernels, and the folded k, a, b formula every GPU version uses, against the loop.
    const BnBackwardCase bb = bn_backward_case(p, seed + 5);
    std::vector<float> gx(y.size()), dgamma(size_t(p.c)), dbeta(size_t(p.c)), gx_folded(y.size());
    bn_relu_backward_loop(p, bb.fwd.x.data(), bb.fwd.y.data(), bb.gy.data(), bb.fwd.gamma.data(), bb.fwd.mean.data(),
                          bb.fwd.var.data(), gx.data(), dgamma.data(), dbeta.data());
    ok &= check("bn+relu backward: mtinet CPU kernels vs loop", p.str(),
                std::max({rel_err(bb.gx, gx), rel_err(bb.dgamma, dgamma), rel_err(bb.dbeta, dbeta)}), 1e-5);
    for (int64_t i = 0; i < p.numel(); ++i) {
      const int ch = int(i % p.c);
      const BnBackwardCoefs f = bn_backward_coefs(bb.fwd.gamma[size_t(ch)], bb.fwd.mean[size_t(ch)],
                                                  bb.fwd.var[size_t(ch)], p.eps, dgamma[size_t(ch)],
                                                  dbeta[size_t(ch)], double(p.rows()));
      gx_folded[size_t(i)] = bn_relu_grad(bb.fwd.x[size_t(i)], bb.fwd.y[size_t(i)], bb.gy[size_t(i)], f);
    }
    ok &= check("bn+relu backward: folded k*g + a*x + b vs loop", p.str(), rel_err(gx_folded, gx), 1e-4);
  }
  return ok;
}

// Every GPU version on the same small shapes against the plain loops.
int test_cuda() {
  const std::string why = gpu_unavailable_reason();
  if (!why.empty()) {
    std::printf("skipped: %s (the GPU versions need a CUDA build and a GPU)\n", why.c_str());
    return 77;
  }
  bool ok = true;
  uint64_t seed = 100;
  for (const ConvProblem& p : conv_test_problems()) {
    const ConvCase c = conv_case(p, seed += 10);
    for (const GpuResult& r : gpu_conv(p, c.x, c.w, c.y, 0, 0))
      ok &= check(("conv " + r.name).c_str(), p.str(), r.err, r.tol);
  }
  for (const BnProblem& p : bn_test_problems()) {
    const BnCase b = bn_case(p, seed += 10);
    for (const GpuResult& r : gpu_bn(p, b.x, b.gamma, b.beta, b.y, b.mean, b.var, 0, 0))
      ok &= check(("bn " + r.name).c_str(), p.str(), r.err, r.tol);
    const BnBackwardCase bb = bn_backward_case(p, seed + 5);
    for (const GpuResult& r : gpu_bn_backward(p, bb.fwd.x, bb.fwd.y, bb.gy, bb.fwd.gamma, bb.fwd.mean, bb.fwd.var,
                                              bb.gx, bb.dgamma, bb.dbeta, 0, 0))
      ok &= check(("bn backward " + r.name).c_str(), p.str(), r.err, r.tol);
  }
  return ok ? 0 : 1;
}

int usage() {
  std::fprintf(stderr,
               "usage: dev_kernels conv|bn|bnback [VERSION] [--small] [--reps N] [--cpu-reps N]\n"
               "       dev_kernels all [--small] [--reps N] [--cpu-reps N]\n"
               "       dev_kernels test cpu|cuda\n");
  return 2;
}

int run(int argc, char** argv) {
  if (argc < 2) return usage();
  const std::string what = argv[1];
  if (what == "test") {
    g_cpu_reps = 0;  // the checks need the references, not their times
    if (argc != 3) return usage();
    const std::string side = argv[2];
    if (side == "cpu") return test_cpu() ? 0 : 1;
    if (side == "cuda") return test_cuda();
    return usage();
  }
  int version = 0, reps = 10;
  bool small = false;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--small") small = true;
    else if (a == "--reps" && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (a == "--cpu-reps" && i + 1 < argc) g_cpu_reps = std::atoi(argv[++i]);
    else if (!a.empty() && a.find_first_not_of("0123456789") == std::string::npos) version = std::atoi(a.c_str());
    else return usage();
  }
  bool ok = true;
  if (what == "conv" || what == "all") {
    if (version > kConvVersions) return usage();
    ok &= run_conv(version, small, reps);
  }
  if (what == "bn" || what == "all") {
    if (version > kBnVersions) return usage();
    ok &= run_bn(version, small, reps);
  }
  if (what == "bnback" || what == "all") {
    if (version > kBnBackwardVersions) return usage();
    ok &= run_bn_backward(version, small, reps);
  }
  if (what != "conv" && what != "bn" && what != "bnback" && what != "all") return usage();
  return ok ? 0 : 1;
}

}  // namespace

#ifndef MTINET_WITH_CUDA
// A CPU-only build has no gpu_runner.cu: these stand in for it.
std::string gpu_unavailable_reason() { return "this build has no CUDA backend"; }
std::vector<GpuResult> gpu_conv(const ConvProblem&, const std::vector<float>&, const std::vector<float>&,
                                const std::vector<float>&, int, int) {
  return {};
}
std::vector<GpuResult> gpu_bn(const BnProblem&, const std::vector<float>&, const std::vector<float>&,
                              const std::vector<float>&, const std::vector<float>&, const std::vector<float>&,
                              const std::vector<float>&, int, int) {
  return {};
}
std::vector<GpuResult> gpu_bn_backward(const BnProblem&, const std::vector<float>&, const std::vector<float>&,
                                       const std::vector<float>&, const std::vector<float>&,
                                       const std::vector<float>&, const std::vector<float>&,
                                       const std::vector<float>&, const std::vector<float>&,
                                       const std::vector<float>&, int, int) {
  return {};
}
#endif

}  // namespace devk

int main(int argc, char** argv) {
  try {
    return devk::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dev_kernels: %s\n", e.what());
    return 1;
  }
}
