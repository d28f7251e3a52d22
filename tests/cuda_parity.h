// The CUDA parity harness: runs an op on the CPU (the reference) and on CUDA copies of the same random f32 inputs,
// back-propagates the same random output gradient through both, and compares the outputs and every input gradient
// with a per-op tolerance. While the CUDA side runs, the allocator poisons every block it hands out (0xFF bytes, a
// NaN in f32), so an output or gradient element a kernel never wrote shows up as NaN and fails the comparison.
//
// Every CUDA run is done twice on identical copies and must give the same bits (deterministic kernels).
//
// Without a GPU the CUDA tests call skip_without_gpu() and return; the test runner (tests/test_main.cpp) then exits
// with 77, which ctest reports as "Skipped". Every CUDA test case name starts with "cuda: " (ctest -R '^cuda:').
#pragma once
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/rng.h"
#include "core/tensor.h"
#include "test_util.h"

#ifdef MTINET_WITH_CUDA
#include "core/cuda_allocator.h"
#include "core/cuda_runtime.h"
#endif

namespace mtinet::test {

// True (and the test is reported as skipped, by name) when no CUDA GPU is available; use as
//   if (skip_without_gpu()) return;
bool skip_without_gpu(const char* why = "no CUDA GPU");

struct Tolerance {
  double atol = 1e-6;
  double rtol = 1e-5;
};

// Turns the allocator's poisoning on for its lifetime (CUDA builds; a no-op otherwise).
class PoisonGuard {
 public:
#ifdef MTINET_WITH_CUDA
  PoisonGuard() : previous_(cuda::poison_allocations()) { cuda::set_poison_allocations(true); }
  ~PoisonGuard() { cuda::set_poison_allocations(previous_); }
#else
  PoisonGuard() {}  // user-provided, so a guard variable never counts as unused
  ~PoisonGuard() {}
#endif
  PoisonGuard(const PoisonGuard&) = delete;
  PoisonGuard& operator=(const PoisonGuard&) = delete;

 private:
#ifdef MTINET_WITH_CUDA
  bool previous_;
#endif
};

#ifdef MTINET_WITH_CUDA
// Sets one of the CUDA runtime's switches (cuda::set_tf32, cuda::set_deterministic, ...) for its lifetime and then
// restores the previous value.
class SwitchGuard {
 public:
  SwitchGuard(bool (*get)(), void (*set)(bool), bool on) : set_(set), previous_(get()) { set_(on); }
  ~SwitchGuard() { set_(previous_); }
  SwitchGuard(const SwitchGuard&) = delete;
  SwitchGuard& operator=(const SwitchGuard&) = delete;

 private:
  void (*set_)(bool);
  bool previous_;
};
#endif

// `count` f32 CPU tensors of `shape`, uniform in [lo, hi), requiring grad.
inline std::vector<Tensor> random_f32_inputs(int count, const Shape& shape, Rng& rng, double lo = -1.0,
                                             double hi = 1.0) {
  std::vector<Tensor> v;
  for (int i = 0; i < count; ++i) v.push_back(random_tensor(shape, rng, lo, hi, DType::F32).set_requires_grad(true));
  return v;
}

// Compares a CUDA result with the CPU reference: same shape and dtype, no unwritten (poisoned) elements, every
// element within atol + rtol*|expected| (integers exactly).
inline void check_matches_cpu(const Tensor& cuda_t, const Tensor& cpu_t, const Tolerance& tol,
                              const std::string& what) {
  INFO(what);
  REQUIRE(cuda_t.defined());
  REQUIRE(cpu_t.defined());
  CHECK(cuda_t.device() == Device::CUDA);
  REQUIRE(cuda_t.shape() == cpu_t.shape());
  REQUIRE(cuda_t.dtype() == cpu_t.dtype());
  std::vector<double> a = cuda_t.to_double_vector(), e = cpu_t.to_double_vector();
  bool exact = !is_floating(cpu_t.dtype());
  int64_t unwritten = 0, bad = 0;
  size_t worst_i = 0;
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) && !std::isnan(e[i])) ++unwritten;
    double ratio;
    if (std::isnan(a[i]) || std::isnan(e[i])) ratio = (std::isnan(a[i]) && std::isnan(e[i])) ? 0.0 : INFINITY;
    else if (a[i] == e[i]) ratio = 0.0;
    else if (exact) ratio = INFINITY;
    else ratio = std::abs(a[i] - e[i]) / (tol.atol + tol.rtol * std::abs(e[i]));  // inf when the tolerance is 0
    if (ratio > 1.0) ++bad;
    if (ratio > worst) { worst = ratio; worst_i = i; }
  }
  INFO("worst element " << worst_i << " of " << a.size() << ": cuda " << (a.empty() ? 0 : a[worst_i]) << ", cpu "
                        << (e.empty() ? 0 : e[worst_i]) << " (ratio to tolerance " << worst << "); " << bad
                        << " elements out of tolerance");
  CHECK_MESSAGE(unwritten == 0, unwritten << " elements were never written (still poisoned NaN)");
  CHECK(bad == 0);
}

// Asserts that two CUDA results are the same bits (the device computes in a fixed order, run after run).
inline void check_same_bits(const Tensor& again, const Tensor& first, const std::string& what) {
  INFO(what);
  REQUIRE(again.defined() == first.defined());
  if (!first.defined()) return;
  REQUIRE(again.shape() == first.shape());
  std::vector<double> a = again.to_double_vector(), b = first.to_double_vector();
  int64_t differing = 0;
  for (size_t i = 0; i < a.size(); ++i) differing += !(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])));
  CHECK_MESSAGE(differing == 0, differing << " of " << a.size() << " elements differ between two identical runs");
}

// CUDA copies of `xs` (same requires_grad), made before anything runs so every run starts from the same values.
inline std::vector<Tensor> cuda_copies(const std::vector<Tensor>& xs) {
  std::vector<Tensor> out;
  for (const Tensor& x : xs) {
    Tensor g = x.detach().to(Device::CUDA);
    g.set_requires_grad(x.requires_grad());
    out.push_back(g);
  }
  return out;
}

// Runs f on `cpu_inputs` and on CUDA copies of them, then backward from the same random gradient when the output
// is differentiable, and compares the output and the gradient of every input that requires grad. The inputs are
// compared after the op too (with out_tol), so in-place updates (batch_norm's running statistics) are checked.
// A second CUDA run on fresh copies must give the same bits: no atomics or other run-to-run variation.
// Returns the CUDA inputs of the first run, for checks of in-place updates with their own tolerance.
inline std::vector<Tensor> check_parity(const std::string& what, const TensorFn& f,
                                        const std::vector<Tensor>& cpu_inputs, const Tolerance& out_tol,
                                        const Tolerance& grad_tol, uint64_t seed = 7) {
  for (const Tensor& x : cpu_inputs) x.impl().grad.reset();
  std::vector<Tensor> gpu_inputs = cuda_copies(cpu_inputs), again_inputs = cuda_copies(cpu_inputs);
  std::ostringstream shapes;
  for (const Tensor& x : cpu_inputs) shapes << " " << x.describe();
  std::string label = what + " on" + shapes.str();

  Tensor y_cpu = f(cpu_inputs);
  Tensor y_gpu, y_again;
  {
    PoisonGuard poison;
    y_gpu = f(gpu_inputs);
    y_again = f(again_inputs);
  }
  check_matches_cpu(y_gpu, y_cpu, out_tol, label + ": output");
  check_same_bits(y_again, y_gpu, label + ": output of a second CUDA run");
  for (size_t k = 0; k < cpu_inputs.size(); ++k) {
    std::string which = label + ": input " + std::to_string(k) + " after the op";
    check_matches_cpu(gpu_inputs[k].detach(), cpu_inputs[k].detach(), out_tol, which);
    check_same_bits(again_inputs[k].detach(), gpu_inputs[k].detach(), which + ", second CUDA run");
  }
  if (!y_cpu.grad_fn()) return gpu_inputs;

  Rng rng(seed);
  Tensor gy = random_tensor(y_cpu.shape(), rng, -1.0, 1.0, y_cpu.dtype());
  y_cpu.backward(gy);
  {
    PoisonGuard poison;
    Tensor gy_gpu = gy.to(Device::CUDA);
    y_gpu.backward(gy_gpu);
    y_again.backward(gy_gpu);
  }
  for (size_t k = 0; k < cpu_inputs.size(); ++k) {
    if (!cpu_inputs[k].requires_grad()) continue;
    std::string which = label + ": gradient of input " + std::to_string(k);
    INFO(which);
    REQUIRE(cpu_inputs[k].grad().defined() == gpu_inputs[k].grad().defined());
    if (!cpu_inputs[k].grad().defined()) continue;
    check_matches_cpu(gpu_inputs[k].grad(), cpu_inputs[k].grad(), grad_tol, which);
    check_same_bits(again_inputs[k].grad(), gpu_inputs[k].grad(), which + ", second CUDA run");
  }
  return gpu_inputs;
}

// Shapes every op is tried on: a single element, batch 1, odd sizes, and one big enough for many CUDA blocks.
inline std::vector<Shape> parity_shapes() {
  return {{1, 1, 1, 1}, {1, 3, 5, 7}, {2, 7, 9, 3}, {3, 17, 13, 5}, {2, 33, 65, 19}};
}

// check_parity over parity_shapes(), with inputs from make(shape, rng) (fresh random values for each shape).
using InputMaker = std::function<std::vector<Tensor>(const Shape&, Rng&)>;
inline void check_parity_on_shapes(const std::string& what, const TensorFn& f, const InputMaker& make,
                                   const Tolerance& out_tol, const Tolerance& grad_tol,
                                   const std::vector<Shape>& shapes = parity_shapes()) {
  uint64_t seed = 100;
  for (const Shape& s : shapes) {
    Rng rng(seed++);
    check_parity(what, f, make(s, rng), out_tol, grad_tol, seed);
  }
}

}  // namespace mtinet::test
