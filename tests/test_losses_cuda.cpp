// The losses on CUDA against the CPU backend (forward and input gradients, f32, random inputs with ignored and
// invalid pixels), repeatability of the device sums, and the NaN a bad class label gives on the device. Without a
// GPU every case says so and returns.
#include <cmath>
#include <functional>
#include <string>

#include "core/ops.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::test;

namespace {

bool no_gpu() {
  if (cuda_available()) return false;
  MESSAGE("skipped: no CUDA GPU");
  return true;
}

// f32 CPU tensor of the given values' shape.
Tensor f32(const Shape& s, Rng& rng, double lo, double hi) { return random_tensor(s, rng, lo, hi, DType::F32); }

// Zeroes about `fraction` of the pixels (groups of `channels` adjacent values) of t: invalid labels.
void zero_pixels(Tensor& t, int64_t channels, double fraction, Rng& rng) {
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel() / channels; ++i)
    if (rng.uniform() < fraction)
      for (int64_t c = 0; c < channels; ++c) p[i * channels + c] = 0.f;
}

using LossFn = std::function<Tensor(const Tensor& pred, const Tensor& label)>;

// Runs loss(pred, label) with an upstream gradient of 1.7 on the CPU and on CUDA; compares loss and gradient.
void check_against_cpu(const LossFn& loss, const Tensor& pred_cpu, const Tensor& label_cpu, const char* what) {
  INFO(what);
  Tensor grad_out = Tensor::full({}, 1.7, DType::F32);
  Tensor p_cpu = pred_cpu.clone().set_requires_grad(true);
  Tensor l_cpu = loss(p_cpu, label_cpu);
  l_cpu.backward(grad_out);
  Tensor p_gpu = pred_cpu.to(Device::CUDA).set_requires_grad(true);
  Tensor l_gpu = loss(p_gpu, label_cpu.to(Device::CUDA));
  CHECK(l_gpu.device() == Device::CUDA);
  l_gpu.backward(grad_out.to(Device::CUDA));
  check_close(l_gpu.to(Device::CPU), l_cpu, 1e-6, 1e-5, std::string(what) + " loss");
  check_close(p_gpu.grad().to(Device::CPU), p_cpu.grad(), 1e-7, 1e-4, std::string(what) + " gradient");
  // The device sums have a fixed order: a second run gives the same bits.
  CHECK(loss(p_gpu, label_cpu.to(Device::CUDA)).item() == l_gpu.item());
}

}  // namespace

TEST_CASE("cuda: losses match the CPU backend") {
  if (no_gpu()) return;
  Rng rng(71);
  const Shape seg = {2, 37, 53, 7};  // odd sizes: partial blocks in both reduction passes
  Tensor labels = Tensor::empty({2, 37, 53}, DType::I64);
  for (int64_t i = 0; i < labels.numel(); ++i) labels.data<int64_t>()[i] = rng.uniform() < 0.2 ? 255 : rng.randint(7);
  Tensor logits = f32(seg, rng, -6, 6);
  check_against_cpu([](const Tensor& x, const Tensor& y) { return ops::cross_entropy(x, y); }, logits, labels,
                    "cross_entropy");

  Tensor depth = f32({2, 37, 53, 1}, rng, 0, 4), depth_label = f32({2, 37, 53, 1}, rng, 0.5, 4);
  zero_pixels(depth_label, 1, 0.3, rng);
  check_against_cpu([](const Tensor& x, const Tensor& y) { return ops::masked_l1(x, y); }, depth, depth_label,
                    "masked_l1");

  Tensor normals = f32({2, 37, 53, 3}, rng, -1, 1), normals_label = f32({2, 37, 53, 3}, rng, -1, 1);
  zero_pixels(normals_label, 3, 0.3, rng);
  check_against_cpu([](const Tensor& x, const Tensor& y) { return ops::normals_l1(x, y); }, normals, normals_label,
                    "normals_l1");

  Tensor edge = f32({2, 37, 53, 1}, rng, -8, 8), edge_label = f32({2, 37, 53, 1}, rng, 0, 1);
  check_against_cpu([](const Tensor& x, const Tensor& y) { return ops::balanced_bce(x, y, 0.95); }, edge, edge_label,
                    "balanced_bce w=0.95");
  check_against_cpu([](const Tensor& x, const Tensor& y) { return ops::balanced_bce(x, y, std::nullopt); }, edge,
                    edge_label, "balanced_bce batch w");
}

TEST_CASE("cuda: losses with nothing valid are 0 with zero gradients") {
  if (no_gpu()) return;
  Rng rng(72);
  Tensor logits = f32({1, 3, 4, 5}, rng, -1, 1);
  check_against_cpu([](const Tensor& x, const Tensor& y) { return ops::cross_entropy(x, y); }, logits,
                    Tensor::full({1, 3, 4}, 255, DType::I64), "cross_entropy all ignored");
  Tensor pred = f32({1, 3, 4, 3}, rng, -1, 1);
  check_against_cpu([](const Tensor& x, const Tensor& y) { return ops::normals_l1(x, y); }, pred,
                    Tensor::zeros({1, 3, 4, 3}), "normals_l1 all invalid");
  check_against_cpu([](const Tensor& x, const Tensor& y) { return ops::masked_l1(x, y); }, pred,
                    Tensor::zeros({1, 3, 4, 3}), "masked_l1 all invalid");
}

TEST_CASE("cuda: a bad class label makes the loss NaN") {
  if (no_gpu()) return;
  Tensor logits = Tensor::zeros({1, 1, 2, 3}, DType::F32, Device::CUDA);
  Tensor labels = Tensor::from_vector<int64_t>({1, 1, 2}, {0, 9}, Device::CUDA);
  // In debug-sync mode (MTINET_CUDA_SYNC=1) the op pays a host copy and throws the CPU's error instead.
  try {
    CHECK(std::isnan(ops::cross_entropy(logits, labels).item()));
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("label 9 at pixel 1") != std::string::npos);
  }
}
