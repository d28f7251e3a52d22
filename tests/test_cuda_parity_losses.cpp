// CUDA against the CPU for the losses (cross_entropy, masked_l1, normals_l1, balanced_bce, and their upsampled forms):
// the 0-d loss and the prediction gradient, on the parity shapes with ignored and invalid pixels, the cases where nothing is valid, and
// the NaN a bad class label gives on the device. Without a GPU these tests report themselves as skipped.
#include <cmath>
#include <optional>
#include <string>

#include "core/ops.h"
#include "cuda_parity.h"

using namespace mtinet;
using namespace mtinet::test;

namespace {
// The loss is a sum over pixels in double on both devices, in a different order, rounded to f32.
constexpr Tolerance kLoss{1e-6, 1e-5};
// Per-pixel gradients: the same formula, with the host and device exp/log/sqrt a few ulp apart.
constexpr Tolerance kLossGrad{1e-7, 1e-4};

// Zeroes about `fraction` of the pixels (groups of `channels` adjacent values) of t: invalid labels.
void zero_pixels(Tensor& t, int64_t channels, double fraction, Rng& rng) {
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel() / channels; ++i)
    if (rng.uniform() < fraction)
      for (int64_t c = 0; c < channels; ++c) p[i * channels + c] = 0.f;
}

// Class labels {N,H,W} in [0, C), about a fifth of them the ignore index 255.
Tensor class_labels(const Shape& s, Rng& rng) {
  Tensor labels = Tensor::empty({s[0], s[1], s[2]}, DType::I64);
  for (int64_t i = 0; i < labels.numel(); ++i)
    labels.data<int64_t>()[i] = rng.uniform() < 0.2 ? 255 : rng.randint(s[3]);
  return labels;
}

Tensor f32(const Shape& s, Rng& rng, double lo, double hi) { return random_tensor(s, rng, lo, hi, DType::F32); }
}  // namespace

TEST_CASE("cuda: cross_entropy parity") {
  if (skip_without_gpu()) return;
  auto make = [](const Shape& s, Rng& rng) {
    return std::vector<Tensor>{f32(s, rng, -6, 6).set_requires_grad(true), class_labels(s, rng)};
  };
  auto ce = [](const std::vector<Tensor>& in) { return ops::cross_entropy(in[0], in[1]); };
  check_parity_on_shapes("cross_entropy", ce, make, kLoss, kLossGrad);
  // NYUD-v2's 40 classes.
  check_parity_on_shapes("cross_entropy", ce, make, kLoss, kLossGrad, {{1, 12, 16, 40}, {2, 31, 17, 40}});
}

TEST_CASE("cuda: masked_l1 parity") {
  if (skip_without_gpu()) return;
  auto make = [](const Shape& s, Rng& rng) {
    Tensor label = f32(s, rng, 0.5, 4);
    zero_pixels(label, 1, 0.3, rng);
    return std::vector<Tensor>{f32(s, rng, 0, 4).set_requires_grad(true), label};
  };
  check_parity_on_shapes("masked_l1", [](const std::vector<Tensor>& in) { return ops::masked_l1(in[0], in[1]); },
                         make, kLoss, kLossGrad);
  // Depth maps are one channel; another invalid value.
  auto make_depth = [](const Shape& s, Rng& rng) {
    Tensor label = f32({s[0], s[1], s[2], 1}, rng, 0.5, 4);
    float* p = label.data<float>();
    for (int64_t i = 0; i < label.numel(); ++i)
      if (rng.uniform() < 0.3) p[i] = -1.f;
    return std::vector<Tensor>{f32(label.shape(), rng, 0, 4).set_requires_grad(true), label};
  };
  check_parity_on_shapes("masked_l1 invalid -1",
                         [](const std::vector<Tensor>& in) { return ops::masked_l1(in[0], in[1], -1.0); }, make_depth,
                         kLoss, kLossGrad);
}

TEST_CASE("cuda: normals_l1 parity") {
  if (skip_without_gpu()) return;
  auto make = [](const Shape& s, Rng& rng) {
    Shape s3{s[0], s[1], s[2], 3};
    Tensor label = f32(s3, rng, -1, 1);
    zero_pixels(label, 3, 0.3, rng);
    return std::vector<Tensor>{f32(s3, rng, -1, 1).set_requires_grad(true), label};
  };
  check_parity_on_shapes("normals_l1", [](const std::vector<Tensor>& in) { return ops::normals_l1(in[0], in[1]); },
                         make, kLoss, kLossGrad);
}

TEST_CASE("cuda: balanced_bce parity, given and batch weights") {
  if (skip_without_gpu()) return;
  auto make = [](const Shape& s, Rng& rng) {
    return std::vector<Tensor>{f32(s, rng, -8, 8).set_requires_grad(true), f32(s, rng, 0, 1)};
  };
  check_parity_on_shapes("balanced_bce w=0.95",
                         [](const std::vector<Tensor>& in) { return ops::balanced_bce(in[0], in[1], 0.95); }, make,
                         kLoss, kLossGrad);
  check_parity_on_shapes("balanced_bce batch weight",
                         [](const std::vector<Tensor>& in) { return ops::balanced_bce(in[0], in[1], std::nullopt); },
                         make, kLoss, kLossGrad);
}

TEST_CASE("cuda: losses with nothing valid are 0 with zero gradients on both devices") {
  if (skip_without_gpu()) return;
  Rng rng(72);
  Tensor pred = f32({1, 3, 4, 3}, rng, -1, 1).set_requires_grad(true);
  auto ce = [](const std::vector<Tensor>& in) { return ops::cross_entropy(in[0], in[1]); };
  check_parity("cross_entropy all ignored", ce, {pred, Tensor::full({1, 3, 4}, 255, DType::I64)}, kLoss, kLossGrad);
  auto normals = [](const std::vector<Tensor>& in) { return ops::normals_l1(in[0], in[1]); };
  check_parity("normals_l1 all invalid", normals, {pred, Tensor::zeros({1, 3, 4, 3})}, kLoss, kLossGrad);
  auto l1 = [](const std::vector<Tensor>& in) { return ops::masked_l1(in[0], in[1]); };
  check_parity("masked_l1 all invalid", l1, {pred, Tensor::zeros({1, 3, 4, 3})}, kLoss, kLossGrad);
  Tensor loss = ops::masked_l1(pred.detach().to(Device::CUDA), Tensor::zeros({1, 3, 4, 3}, DType::F32, Device::CUDA));
  CHECK(loss.item() == 0.0);
}

TEST_CASE("cuda: a bad class label makes the loss NaN") {
  if (skip_without_gpu()) return;
  Tensor logits = Tensor::zeros({1, 1, 2, 3}, DType::F32, Device::CUDA);
  Tensor labels = Tensor::from_vector<int64_t>({1, 1, 2}, {0, 9}, Device::CUDA);
  // In debug-sync mode (MTINET_CUDA_SYNC=1) the op pays a host copy and throws the CPU's error instead. The loss is
  // computed outside CHECK, which would report the exception itself instead of letting it reach the catch.
  try {
    double loss = ops::cross_entropy(logits, labels).item();
    CHECK(std::isnan(loss));
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("label 9 at pixel 1") != std::string::npos);
  }
}

// ---------------------------------------------------------------- upsampled losses (deep supervision)

namespace {
// Low-resolution predictions read at label resolution: odd, non-integer factors (7x9 -> 30x41), an integer factor
// at a deep-supervision-like size (stride 8 -> full), a single source pixel, and downsampling.
struct UpsampledCase {
  Shape pred;
  int64_t oh, ow;
};
const UpsampledCase kUpsampledCases[] = {
    {{2, 7, 9, 5}, 30, 41}, {{1, 12, 16, 40}, 96, 128}, {{1, 1, 1, 3}, 4, 6}, {{2, 9, 7, 3}, 5, 4}};
}  // namespace

TEST_CASE("cuda: upsampled losses parity") {
  if (skip_without_gpu()) return;
  uint64_t seed = 300;
  for (const UpsampledCase& c : kUpsampledCases) {
    Rng rng(seed++);
    const Shape full{c.pred[0], c.oh, c.ow, c.pred[3]};
    Tensor logits = f32(c.pred, rng, -6, 6).set_requires_grad(true);
    check_parity("upsampled_cross_entropy",
                 [](const std::vector<Tensor>& in) { return ops::upsampled_cross_entropy(in[0], in[1]); },
                 {logits, class_labels(full, rng)}, kLoss, kLossGrad);
    Tensor depth = f32(full, rng, 0.5, 4);
    zero_pixels(depth, 1, 0.3, rng);
    check_parity("upsampled_masked_l1",
                 [](const std::vector<Tensor>& in) { return ops::upsampled_masked_l1(in[0], in[1]); },
                 {f32(c.pred, rng, 0, 4).set_requires_grad(true), depth}, kLoss, kLossGrad);
    Tensor edges = f32(full, rng, 0, 1);
    check_parity("upsampled_balanced_bce",
                 [](const std::vector<Tensor>& in) { return ops::upsampled_balanced_bce(in[0], in[1], std::nullopt); },
                 {f32(c.pred, rng, -8, 8).set_requires_grad(true), edges}, kLoss, kLossGrad);
    const Shape pred3{c.pred[0], c.pred[1], c.pred[2], 3}, full3{c.pred[0], c.oh, c.ow, 3};
    Tensor normals = f32(full3, rng, -1, 1);
    zero_pixels(normals, 3, 0.3, rng);
    check_parity("upsampled_normals_l1",
                 [](const std::vector<Tensor>& in) { return ops::upsampled_normals_l1(in[0], in[1]); },
                 {f32(pred3, rng, -1, 1).set_requires_grad(true), normals}, kLoss, kLossGrad);
  }
}
