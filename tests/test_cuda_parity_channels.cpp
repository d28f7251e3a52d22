// CUDA against the CPU for the channel and resize ops: concat_channels, slice_channels, resize_bilinear and
// resize_bilinear_scale, on the parity shapes (a single element, batch 1, odd sizes, many blocks), forward and every
// input gradient. Without a GPU these tests report themselves as skipped.
#include <algorithm>
#include <string>

#include "core/ops.h"
#include "cuda_parity.h"

using namespace mtinet;
using namespace mtinet::test;

namespace {
// Concatenation and slicing only move values: the devices must agree to the bit.
constexpr Tolerance kBitwise{0.0, 0.0};
// Bilinear taps are two lerps per axis in f32; the device may contract them into FMAs.
constexpr Tolerance kResize{1e-6, 1e-5};
// The resize backward sums up to a few taps per input element in f32, in the same order on both devices.
constexpr Tolerance kResizeGrad{1e-6, 1e-5};

InputMaker uniform_inputs(int count) {
  return [=](const Shape& s, Rng& rng) { return random_f32_inputs(count, s, rng); };
}
}  // namespace

TEST_CASE("cuda: concat_channels parity") {
  if (skip_without_gpu()) return;
  // Three inputs of different widths (the shape's C, 1 and C+3) so some rows allow vector copies and some do not;
  // the middle input needs no gradient, so its gradient must stay undefined on both devices.
  auto three_widths = [](const Shape& s, Rng& rng) {
    Shape narrow = s, wide = s;
    narrow.back() = 1;
    wide.back() = s.back() + 3;
    std::vector<Tensor> in = random_f32_inputs(1, s, rng);
    in.push_back(random_tensor(narrow, rng, -1.0, 1.0, DType::F32));
    in.push_back(random_f32_inputs(1, wide, rng)[0]);
    return in;
  };
  check_parity_on_shapes("concat_channels", [](const std::vector<Tensor>& in) { return ops::concat_channels(in); },
                         three_widths, kBitwise, kBitwise);
  // One input alone, and MTI-Net's widths (four 4-aligned maps).
  check_parity_on_shapes("concat_channels of one input",
                         [](const std::vector<Tensor>& in) { return ops::concat_channels(in); }, uniform_inputs(1),
                         kBitwise, kBitwise);
  auto aligned = [](const Shape& s, Rng& rng) {
    std::vector<Tensor> in;
    for (int64_t c : {16, 32, 64, 8}) in.push_back(random_f32_inputs(1, {s[0], s[1], s[2], c}, rng)[0]);
    return in;
  };
  check_parity_on_shapes("concat_channels of aligned widths",
                         [](const std::vector<Tensor>& in) { return ops::concat_channels(in); }, aligned, kBitwise,
                         kBitwise);
}

TEST_CASE("cuda: slice_channels parity") {
  if (skip_without_gpu()) return;
  // Ranges derived from each shape's C: the first half (rounded up), the tail from C/3, and a single middle channel.
  struct Range {
    const char* name;
    int64_t (*begin)(int64_t c);
    int64_t (*end)(int64_t c);
  };
  const Range ranges[] = {
      {"first half", [](int64_t) -> int64_t { return 0; }, [](int64_t c) -> int64_t { return (c + 1) / 2; }},
      {"tail", [](int64_t c) -> int64_t { return c / 3; }, [](int64_t c) -> int64_t { return c; }},
      {"one middle channel", [](int64_t c) -> int64_t { return c / 2; },
       [](int64_t c) -> int64_t { return c / 2 + 1; }},
  };
  for (const Range& r : ranges) {
    auto slice = [&r](const std::vector<Tensor>& in) {
      int64_t c = in[0].dim(-1);
      return ops::slice_channels(in[0], r.begin(c), r.end(c));
    };
    check_parity_on_shapes(std::string("slice_channels ") + r.name, slice, uniform_inputs(1), kBitwise, kBitwise);
  }
}

TEST_CASE("cuda: resize_bilinear parity") {
  if (skip_without_gpu()) return;
  // Output sizes derived from each input: x2 (MTI-Net's upsampling), a downsampling, and odd non-integer ratios.
  struct Size {
    const char* name;
    int64_t (*h)(int64_t);
    int64_t (*w)(int64_t);
  };
  const Size sizes[] = {
      {"x2", [](int64_t h) -> int64_t { return 2 * h; }, [](int64_t w) -> int64_t { return 2 * w; }},
      {"down", [](int64_t h) -> int64_t { return std::max<int64_t>(1, h / 2); },
       [](int64_t w) -> int64_t { return std::max<int64_t>(1, (w + 2) / 3); }},
      {"odd ratio", [](int64_t h) -> int64_t { return 3 * h + 2; }, [](int64_t w) -> int64_t { return w + 5; }},
  };
  for (const Size& sz : sizes) {
    auto resize = [&sz](const std::vector<Tensor>& in) {
      return ops::resize_bilinear(in[0], sz.h(in[0].dim(1)), sz.w(in[0].dim(2)));
    };
    check_parity_on_shapes(std::string("resize_bilinear ") + sz.name, resize, uniform_inputs(1), kResize,
                           kResizeGrad);
  }
  // MTI-Net's final upsampling ratio (x4) on a small map with many channels.
  auto x4 = [](const std::vector<Tensor>& in) {
    return ops::resize_bilinear(in[0], 4 * in[0].dim(1), 4 * in[0].dim(2));
  };
  check_parity_on_shapes("resize_bilinear x4", x4, uniform_inputs(1), kResize, kResizeGrad,
                         {{1, 3, 4, 40}, {2, 15, 20, 13}});
}

TEST_CASE("cuda: resize_bilinear_scale parity") {
  if (skip_without_gpu()) return;
  for (double scale : {2.0, 1.7, 3.0}) {
    auto resize = [scale](const std::vector<Tensor>& in) { return ops::resize_bilinear_scale(in[0], scale, scale); };
    check_parity_on_shapes("resize_bilinear_scale " + std::to_string(scale), resize, uniform_inputs(1), kResize,
                           kResizeGrad);
  }
  // Downscaling needs inputs of at least two pixels per side (floor(in * 0.6) >= 1).
  auto down = [](const std::vector<Tensor>& in) { return ops::resize_bilinear_scale(in[0], 0.6, 0.45); };
  check_parity_on_shapes("resize_bilinear_scale 0.6 x 0.45", down, uniform_inputs(1), kResize, kResizeGrad,
                         {{1, 2, 3, 1}, {2, 7, 9, 3}, {3, 17, 13, 5}, {2, 33, 65, 19}});
}
