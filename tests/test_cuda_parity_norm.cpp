// CUDA against the CPU for batch_norm (training and eval, with and without affine; outputs, every input gradient and
// the updated running statistics), batch_norm_relu (with and without the residual and the ReLU), global_avg_pool,
// channel_scale and grouped_softmax, on shapes with batch 1, odd sizes and many blocks. Without a GPU these tests
// report themselves as skipped.
#include <cmath>
#include <string>

#include "core/ops.h"
#include "cuda_parity.h"

using namespace mtinet;
using namespace mtinet::test;

namespace {
// Normalised outputs and the input gradient: per-channel statistics summed in a different order on each device.
constexpr Tolerance kBatchNorm{1e-5, 1e-4};
// The weight and bias gradients are sums over every pixel in f32 (the input gradient shares this tolerance).
constexpr Tolerance kBatchNormGrad{1e-4, 1e-4};
// Running statistics: one blend of the batch statistics.
constexpr Tolerance kRunning{1e-6, 1e-5};
// Per-image channel means and sums over the pixels, summed in a different order on each device.
constexpr Tolerance kPixelSum{1e-6, 1e-5};
// channel_scale's gate gradient sums gy*x over up to thousands of pixels in f32 on the device (16 lanes, then a
// tree) and in double on the CPU; a simulation of that order at these shapes stays within a fifth of {1e-4, 1e-4}
// while {1e-5, 1e-4} is nearly reached where a channel's sum cancels.
constexpr Tolerance kPixelSumGrad{1e-4, 1e-4};
// One product per element.
constexpr Tolerance kProduct{0.0, 1e-7};
// exp and a division per element; the host and device exp differ by a few ulp.
constexpr Tolerance kSoftmax{1e-7, 1e-5};
// y * (gy - dot): where gy is close to the group's dot product the few-ulp differences in y are not scaled down.
constexpr Tolerance kSoftmaxGrad{1e-6, 1e-5};

// batch_norm needs more than one value per channel in training; these all have at least two, and include a 2-d
// {N,C} input, more than 32 channels (two channel tiles) and more than 256 rows (several row chunks).
std::vector<Shape> batch_norm_shapes() {
  return {{1, 1, 2, 1}, {1, 3, 5, 7}, {2, 7, 9, 3}, {3, 17, 13, 5}, {2, 33, 65, 19}, {1, 17, 19, 48}, {300, 70},
          {2, 1}};
}

// {x, running mean, running var, weight, bias} for one BatchNorm over `shape` (NHWC): x, weight and bias require
// grad; the running statistics are state (updated in place in training).
std::vector<Tensor> batch_norm_inputs(const Shape& shape, Rng& rng) {
  const int64_t c = shape.back();
  return {random_tensor(shape, rng, -2, 3, DType::F32).set_requires_grad(true),
          random_tensor({c}, rng, -1, 1, DType::F32), random_tensor({c}, rng, 0.5, 2, DType::F32),
          random_tensor({c}, rng, 0.5, 1.5, DType::F32).set_requires_grad(true),
          random_tensor({c}, rng, -1, 1, DType::F32).set_requires_grad(true)};
}

// Moves x wherever the CPU's pre-ReLU value BN(x) + residual lies within 1e-3 of 0 (0.01 further the way it leans;
// weights are positive here), so that rounding differences between the devices (~1e-6) cannot flip a ReLU mask.
// Each moved value shifts its channel's statistics by about 0.01/rows, far less than the margin.
void keep_pre_relu_off_zero(const std::vector<Tensor>& in, bool training, const Tensor& residual) {
  Tensor z;
  {
    NoGradGuard ng;
    Tensor rm = in[1].clone(), rv = in[2].clone();
    z = ops::batch_norm_relu(in[0], in[3], in[4], rm, rv, training, 0.1, 1e-5, residual, false);
  }
  float* x = in[0].data<float>();
  const float* zp = z.data<float>();
  for (int64_t i = 0; i < z.numel(); ++i)
    if (std::abs(zp[i]) < 1e-3f) x[i] += zp[i] >= 0 ? 0.01f : -0.01f;
}
}  // namespace

TEST_CASE("cuda: batch_norm parity, training and eval, with running statistics") {
  if (skip_without_gpu()) return;
  uint64_t seed = 300;
  for (bool training : {true, false}) {
    for (bool affine : {true, false}) {
      for (const Shape& shape : batch_norm_shapes()) {
        Rng rng(seed++);
        std::vector<Tensor> in = batch_norm_inputs(shape, rng);
        if (!affine) in.resize(3);
        auto bn = [training, affine](const std::vector<Tensor>& x) {
          Tensor w = affine ? x[3] : Tensor(), b = affine ? x[4] : Tensor();
          return ops::batch_norm(x[0], w, b, x[1], x[2], training, 0.1, 1e-5);
        };
        std::string what = std::string("batch_norm ") + (training ? "training" : "eval") + (affine ? " affine" : "");
        std::vector<Tensor> gpu = check_parity(what, bn, in, kBatchNorm, kBatchNormGrad, seed);
        check_matches_cpu(gpu[1], in[1], kRunning, what + ": running_mean after the step");
        check_matches_cpu(gpu[2], in[2], kRunning, what + ": running_var after the step");
      }
    }
  }
}

TEST_CASE("cuda: batch_norm parity without running statistics (training only)") {
  if (skip_without_gpu()) return;
  auto bn = [](const std::vector<Tensor>& x) {
    return ops::batch_norm(x[0], x[1], x[2], Tensor(), Tensor(), true, 0.1, 1e-5);
  };
  auto make = [](const Shape& s, Rng& rng) {
    return std::vector<Tensor>{random_tensor(s, rng, -2, 3, DType::F32).set_requires_grad(true),
                               random_tensor({s.back()}, rng, 0.5, 1.5, DType::F32).set_requires_grad(true),
                               random_tensor({s.back()}, rng, -1, 1, DType::F32).set_requires_grad(true)};
  };
  check_parity_on_shapes("batch_norm without running statistics", bn, make, kBatchNorm, kBatchNormGrad,
                         batch_norm_shapes());
}

TEST_CASE("cuda: batch_norm_relu parity, with and without residual and ReLU, training and eval") {
  if (skip_without_gpu()) return;
  uint64_t seed = 500;
  for (bool training : {true, false}) {
    for (bool residual : {true, false}) {
      for (bool relu : {true, false}) {
        if (!residual && !relu) continue;  // plain batch_norm: the cases above
        for (const Shape& shape : batch_norm_shapes()) {
          Rng rng(seed++);
          std::vector<Tensor> in = batch_norm_inputs(shape, rng);
          if (residual) in.push_back(random_tensor(shape, rng, -1, 1, DType::F32).set_requires_grad(true));
          if (relu) keep_pre_relu_off_zero(in, training, residual ? in[5] : Tensor());
          auto bn = [training, residual, relu](const std::vector<Tensor>& x) {
            return ops::batch_norm_relu(x[0], x[3], x[4], x[1], x[2], training, 0.1, 1e-5,
                                        residual ? x[5] : Tensor(), relu);
          };
          std::string what = std::string("batch_norm_relu ") + (training ? "training" : "eval") +
                             (residual ? " +residual" : "") + (relu ? " relu" : "");
          // With the masks equal, the gradients keep batch_norm's tolerance (the residual's is the masked gy).
          std::vector<Tensor> gpu = check_parity(what, bn, in, kBatchNorm, kBatchNormGrad, seed);
          check_matches_cpu(gpu[1], in[1], kRunning, what + ": running_mean after the step");
          check_matches_cpu(gpu[2], in[2], kRunning, what + ": running_var after the step");
        }
      }
    }
  }
}

TEST_CASE("cuda: global_avg_pool parity") {
  if (skip_without_gpu()) return;
  auto make = [](const Shape& s, Rng& rng) { return random_f32_inputs(1, s, rng, -3, 3); };
  check_parity_on_shapes("global_avg_pool", [](const std::vector<Tensor>& in) { return ops::global_avg_pool(in[0]); },
                         make, kPixelSum, kPixelSum);
  // MTI-Net's SE blocks: many channels (several 32-channel tiles, a ragged last one) on a large map.
  check_parity_on_shapes("global_avg_pool", [](const std::vector<Tensor>& in) { return ops::global_avg_pool(in[0]); },
                         make, kPixelSum, kPixelSum, {{2, 60, 80, 36}, {1, 15, 20, 145}});
}

TEST_CASE("cuda: channel_scale parity") {
  if (skip_without_gpu()) return;
  auto make = [](const Shape& s, Rng& rng) {
    return std::vector<Tensor>{random_tensor(s, rng, -3, 3, DType::F32).set_requires_grad(true),
                               random_tensor({s[0], s[3]}, rng, 0, 1, DType::F32).set_requires_grad(true)};
  };
  auto scale = [](const std::vector<Tensor>& in) { return ops::channel_scale(in[0], in[1]); };
  check_parity_on_shapes("channel_scale", scale, make, kProduct, kPixelSumGrad);
  check_parity_on_shapes("channel_scale", scale, make, kProduct, kPixelSumGrad, {{2, 60, 80, 36}, {1, 15, 20, 145}});
  // The SE pattern: the gate computed from the same input (x gets gradient through both paths).
  auto se = [](const std::vector<Tensor>& in) {
    return ops::channel_scale(in[0], ops::sigmoid(ops::global_avg_pool(in[0])));
  };
  check_parity_on_shapes("squeeze-and-excitation", se, [](const Shape& s, Rng& rng) {
    return random_f32_inputs(1, s, rng, -3, 3);
  }, kPixelSum, kPixelSumGrad);
}

TEST_CASE("cuda: grouped_softmax parity") {
  if (skip_without_gpu()) return;
  // (shape, group): groups of 1 (a constant 1), 2 (MTI-Net's FPM masks), odd sizes, and the whole channel row.
  struct Case {
    Shape shape;
    int64_t group;
  };
  const Case cases[] = {{{1, 1, 1, 1}, 1}, {{1, 3, 5, 6}, 3}, {{2, 7, 9, 4}, 2}, {{3, 17, 13, 10}, 5},
                        {{2, 33, 65, 7}, 7}, {{2, 15, 20, 144}, 2}, {{1, 9, 11, 9}, 1}};
  uint64_t seed = 400;
  for (const Case& c : cases) {
    Rng rng(seed++);
    int64_t group = c.group;
    check_parity("grouped_softmax group " + std::to_string(group),
                 [group](const std::vector<Tensor>& in) { return ops::grouped_softmax(in[0], group); },
                 random_f32_inputs(1, c.shape, rng, -8, 8), kSoftmax, kSoftmaxGrad, seed);
  }
  // Huge logits: the max is subtracted on both devices, so nothing overflows.
  Rng rng(450);
  check_parity("grouped_softmax of huge logits",
               [](const std::vector<Tensor>& in) { return ops::grouped_softmax(in[0], 4); },
               random_f32_inputs(1, {2, 5, 7, 8}, rng, -1e4, 1e4), kSoftmax, kSoftmaxGrad);
}
