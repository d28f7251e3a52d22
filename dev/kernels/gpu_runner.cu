// Runs the numbered versions on the GPU: uploads the inputs, calls each version, checks its output against the CPU
// reference and times it with CUDA events on mtinet's stream, next to the baseline (cuDNN through mtinet's
// conv2d_forward_cuda in exact f32 and in TF32; mtinet's own BatchNorm statistics + apply + ReLU kernels).
#include <algorithm>
#include <cmath>
#include <functional>

#include "core/cuda_runtime.h"
#include "core/device.h"
#include "core/tensor.h"
#include "dev/kernels/gpu.h"
#include "dev/kernels/versions.cuh"
#include "kernels/batch_norm/batch_norm.h"
#include "kernels/conv/conv2d.h"
#include "kernels/elementwise/elementwise.h"

namespace devk {
namespace {

using mtinet::Device;
using mtinet::DType;
using mtinet::Tensor;

constexpr double kTolF32 = 1e-4;   // exact f32 arithmetic, any summation order
constexpr double kTolTf32 = 5e-3;  // operands rounded to 10 mantissa bits
constexpr double kTolBn = 1e-3;    // f32 statistics over up to 150k rows per channel

Tensor upload(const std::vector<float>& v, const mtinet::Shape& shape) {
  return Tensor::from_vector<float>(shape, v).to(Device::CUDA);
}

// max |out - ref| / max |ref| (a relative error that does not blow up on outputs near zero).
double rel_err(const Tensor& out, const std::vector<float>& ref) {
  const std::vector<double> got = out.to_double_vector();
  double diff = 0, scale = 1e-30;
  for (size_t i = 0; i < ref.size(); ++i) {
    diff = std::max(diff, std::fabs(got[i] - double(ref[i])));
    scale = std::max(scale, std::fabs(double(ref[i])));
  }
  return diff / scale;
}

// Milliseconds per call of f over reps calls after one warm-up call (already made by the check).
double time_ms(const std::function<void()>& f, int reps) {
  if (reps <= 0) return 0;
  cudaStream_t s = mtinet::cuda::stream();
  cudaEvent_t start, stop;
  MTINET_CUDA_CHECK(cudaEventCreate(&start));
  MTINET_CUDA_CHECK(cudaEventCreate(&stop));
  MTINET_CUDA_CHECK(cudaEventRecord(start, s));
  for (int i = 0; i < reps; ++i) f();
  MTINET_CUDA_CHECK(cudaEventRecord(stop, s));
  MTINET_CUDA_CHECK(cudaEventSynchronize(stop));
  float ms = 0;
  MTINET_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
  MTINET_CUDA_CHECK(cudaEventDestroy(start));
  MTINET_CUDA_CHECK(cudaEventDestroy(stop));
  return double(ms) / reps;
}

}  // namespace

std::string gpu_unavailable_reason() { return mtinet::cuda_unavailable_reason(); }

std::vector<GpuResult> gpu_conv(const ConvProblem& p, const std::vector<float>& x, const std::vector<float>& w,
                                const std::vector<float>& y_ref, int version, int reps) {
  const Tensor xd = upload(x, {p.n, p.h, p.w, p.cin});
  const Tensor wd = upload(w, {p.cout, p.kh, p.kw, p.cin});
  Tensor yd = Tensor::empty({p.n, p.ho, p.wo, p.cout}, DType::F32, Device::CUDA);
  cudaStream_t s = mtinet::cuda::stream();
  std::vector<GpuResult> out;

  using Fn = void (*)(const ConvProblem&, const float*, const float*, float*, cudaStream_t);
  const struct { const char* name; Fn fn; double tol; } versions[kConvVersions] = {
      {"1 naive", conv_forward1, kTolF32},
      {"2 smem tiles", conv_forward2, kTolF32},
      {"3 reg 4x4 + float4", conv_forward3, kTolF32},
      {"4 wmma tf32", conv_forward4, kTolTf32},
  };
  for (int v = 1; v <= kConvVersions; ++v) {
    if (version != 0 && version != v) continue;
    const auto& ver = versions[v - 1];
    auto call = [&] { ver.fn(p, xd.data<float>(), wd.data<float>(), yd.data<float>(), s); };
    MTINET_CUDA_CHECK(cudaMemsetAsync(yd.data<float>(), 0, yd.nbytes(), s));  // no stale result can pass
    call();
    GpuResult r{ver.name, 0, rel_err(yd, y_ref), ver.tol};
    r.ms = time_ms(call, reps);
    out.push_back(r);
  }

  // cuDNN through mtinet (algorithm searched once per shape and math mode, then cached).
  const mtinet::kernels::Conv2dShape cs = mtinet_shape(p);
  const bool tf32_before = mtinet::cuda::tf32_enabled();
  for (bool tf32 : {false, true}) {
    mtinet::cuda::set_tf32(tf32);
    auto call = [&] { mtinet::kernels::conv2d_forward_cuda(xd, wd, Tensor(), cs, yd); };
    MTINET_CUDA_CHECK(cudaMemsetAsync(yd.data<float>(), 0, yd.nbytes(), s));
    call();
    GpuResult r{tf32 ? "cuDNN tf32" : "cuDNN f32", 0, rel_err(yd, y_ref), tf32 ? kTolTf32 : kTolF32};
    r.ms = time_ms(call, reps);
    out.push_back(r);
  }
  mtinet::cuda::set_tf32(tf32_before);
  return out;
}

std::vector<GpuResult> gpu_bn(const BnProblem& p, const std::vector<float>& x, const std::vector<float>& gamma,
                              const std::vector<float>& beta, const std::vector<float>& y_ref,
                              const std::vector<float>& mean_ref, const std::vector<float>& var_ref, int version,
                              int reps) {
  const Tensor xd = upload(x, {p.rows(), p.c});
  const Tensor gd = upload(gamma, {p.c});
  const Tensor bd = upload(beta, {p.c});
  Tensor yd = Tensor::empty({p.rows(), p.c}, DType::F32, Device::CUDA);
  Tensor mean = Tensor::empty({p.c}, DType::F32, Device::CUDA);
  Tensor var = Tensor::empty({p.c}, DType::F32, Device::CUDA);
  Tensor scratch = Tensor::zeros({int64_t(bn_scratch_floats(p))}, DType::F32, Device::CUDA);
  cudaStream_t s = mtinet::cuda::stream();
  auto clear = [&] {
    for (const Tensor* t : {&yd, &mean, &var}) MTINET_CUDA_CHECK(cudaMemsetAsync(t->raw_data(), 0, t->nbytes(), s));
  };
  auto check = [&](const Tensor& y) {
    return std::max({rel_err(y, y_ref), rel_err(mean, mean_ref), rel_err(var, var_ref)});
  };
  std::vector<GpuResult> out;

  using Fn = void (*)(const BnProblem&, const float*, const float*, const float*, float*, float*, float*, float*,
                      cudaStream_t);
  const struct { const char* name; Fn fn; } versions[kBnVersions] = {
      {"1 naive two-pass", bn_relu1},
      {"2 welford parallel", bn_relu2},
      {"3 2 launches + float4", bn_relu3},
  };
  for (int v = 1; v <= kBnVersions; ++v) {
    if (version != 0 && version != v) continue;
    auto call = [&] {
      versions[v - 1].fn(p, xd.data<float>(), gd.data<float>(), bd.data<float>(), yd.data<float>(),
                         mean.data<float>(), var.data<float>(), scratch.data<float>(), s);
    };
    clear();
    call();
    GpuResult r{versions[v - 1].name, 0, check(yd), kTolBn};
    r.ms = time_ms(call, reps);
    out.push_back(r);
  }

  // mtinet's kernels as a training step runs them (ops::batch_norm_relu): statistics, then the apply with the ReLU
  // fused in.
  auto call = [&] {
    mtinet::kernels::batch_norm_stats_cuda(xd, mean, var);
    mtinet::kernels::batch_norm_apply_cuda(xd, mean, var, gd, bd, Tensor(), true, double(p.eps), yd);
  };
  clear();
  call();
  GpuResult r{"mtinet stats+apply(relu)", 0, check(yd), kTolBn};
  r.ms = time_ms(call, reps);
  out.push_back(r);
  return out;
}

std::vector<GpuResult> gpu_bn_backward(const BnProblem& p, const std::vector<float>& x, const std::vector<float>& y,
                                       const std::vector<float>& gy, const std::vector<float>& gamma,
                                       const std::vector<float>& mean, const std::vector<float>& var,
                                       const std::vector<float>& gx_ref, const std::vector<float>& dgamma_ref,
                                       const std::vector<float>& dbeta_ref, int version, int reps) {
  const Tensor xd = upload(x, {p.rows(), p.c}), yd = upload(y, {p.rows(), p.c}), gyd = upload(gy, {p.rows(), p.c});
  const Tensor gd = upload(gamma, {p.c}), md = upload(mean, {p.c}), vd = upload(var, {p.c});
  Tensor gx = Tensor::empty({p.rows(), p.c}, DType::F32, Device::CUDA);
  Tensor dgamma = Tensor::empty({p.c}, DType::F32, Device::CUDA);
  Tensor dbeta = Tensor::empty({p.c}, DType::F32, Device::CUDA);
  Tensor scratch = Tensor::zeros({int64_t(bn_backward_scratch_floats(p))}, DType::F32, Device::CUDA);
  cudaStream_t s = mtinet::cuda::stream();
  auto clear = [&] {
    for (const Tensor* t : {&gx, &dgamma, &dbeta})
      MTINET_CUDA_CHECK(cudaMemsetAsync(t->raw_data(), 0, t->nbytes(), s));
  };
  auto check = [&] {
    return std::max({rel_err(gx, gx_ref), rel_err(dgamma, dgamma_ref), rel_err(dbeta, dbeta_ref)});
  };
  std::vector<GpuResult> out;

  using Fn = void (*)(const BnProblem&, const float*, const float*, const float*, const float*, const float*,
                      const float*, float*, float*, float*, float*, cudaStream_t);
  const struct { const char* name; Fn fn; } versions[kBnBackwardVersions] = {
      {"1 naive f32 sums", bn_relu_backward1},
      {"2 parallel f64 + float4", bn_relu_backward2},
  };
  for (int v = 1; v <= kBnBackwardVersions; ++v) {
    if (version != 0 && version != v) continue;
    auto call = [&] {
      versions[v - 1].fn(p, xd.data<float>(), yd.data<float>(), gyd.data<float>(), gd.data<float>(),
                         md.data<float>(), vd.data<float>(), gx.data<float>(), dgamma.data<float>(),
                         dbeta.data<float>(), scratch.data<float>(), s);
    };
    clear();
    call();
    GpuResult r{versions[v - 1].name, 0, check(), kTolBn};
    r.ms = time_ms(call, reps);
    out.push_back(r);
  }

  // mtinet (ops::batch_norm_relu): the BatchNorm reduction with the ReLU mask folded in (it also writes the masked
  // gradient), then the input gradient from it.
  Tensor g = Tensor::empty({p.rows(), p.c}, DType::F32, Device::CUDA);
  auto call = [&] {
    mtinet::kernels::batch_norm_backward_reduce_cuda(gyd, xd, md, vd, yd, double(p.eps), dbeta, dgamma, g);
    mtinet::kernels::batch_norm_backward_input_cuda(g, xd, md, vd, gd, dbeta, dgamma, double(p.eps), true, gx);
  };
  clear();
  call();
  GpuResult r{"mtinet reduce(relu mask)+input", 0, check(), kTolBn};
  r.ms = time_ms(call, reps);
  out.push_back(r);
  return out;
}

}  // namespace devk
