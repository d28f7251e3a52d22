// mtinet bench kernels: times each op's forward and backward at MTI-Net's real shapes (NYUD-v2 at 480x640, batch 8,
// HRNet-18 branch widths 18/36/72/144 at 1/4..1/32 resolution, 40 classes) and prints one table row per pass:
// the median time over the timed iterations (warm-up iterations excluded; the device is synchronised before every
// clock read) and the achieved rate: for the memory-bound ops the bandwidth, from the bytes the pass must at least
// read and write (compare with the GPU's peak, H100 SXM about 3.3 TB/s); for the convolutions, where the FLOPs
// dominate, TFLOP/s.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/device.h"
#include "core/ops.h"
#include "core/rng.h"
#include "core/tensor.h"
#include "kernels/optimizer/optimizer.h"
#include "tools/args.h"
#include "tools/commands.h"

#ifdef MTINET_WITH_CUDA
#include "core/cuda_runtime.h"
#endif

namespace mtinet {

namespace {

constexpr int64_t kImageH = 480, kImageW = 640, kClasses = 40;
constexpr int64_t kBatch = 8;
// HRNet-18's four branches: (downsampling, channels).
constexpr int64_t kBranches[4][2] = {{4, 18}, {8, 36}, {16, 72}, {32, 144}};
// MTI-Net with HRNet-18 has about 8.6M parameters.
constexpr int64_t kParameters = 8'600'000;

using OpFn = std::function<Tensor(const std::vector<Tensor>&)>;

// One benchmarked op: inputs (those that require grad get gradients), the op, and per pass either the bytes it
// must at least move (reads + writes, as a straightforward kernel per pass does them) or, when FLOPs dominate, the
// FLOPs. step_only: not an autograd op (an optimiser step), so there is no backward pass.
struct Case {
  std::string op, shape;
  std::vector<Tensor> inputs;
  OpFn fn;
  double forward_bytes = 0, backward_bytes = 0;
  bool step_only = false;
  double forward_flops = 0, backward_flops = 0;  // > 0: report TFLOP/s instead of GB/s
};
// Makes a case's inputs when it is about to run, so each case's memory is freed before the next one's.
struct CaseMaker {
  std::string label;  // op and shape, for a case that cannot even be made
  std::function<Case()> make;
};

struct Bench {
  Device device;
  int64_t batch;
  int warmup, iters;
  Rng rng{20240607};

  // Uniform values made on the host (a fixed seed) and copied to the device.
  Tensor uniform(const Shape& s, double lo = -1.0, double hi = 1.0, bool grad = false) {
    Tensor t = Tensor::empty(s, DType::F32);
    fill_uniform(t, rng, lo, hi);
    t = t.to(device);
    if (grad) t.set_requires_grad(true);
    return t;
  }
  Tensor input(const Shape& s) { return uniform(s, -1.0, 1.0, true); }
  // Class labels in [0, classes) with about a tenth of the pixels ignored (255), as NYUD-v2's void pixels.
  Tensor labels(const Shape& s, int64_t classes) {
    Tensor t = Tensor::empty(s, DType::I64);
    int64_t* p = t.data<int64_t>();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = rng.uniform() < 0.1 ? 255 : rng.randint(classes);
    return t.to(device);
  }
  Shape map(int64_t down, int64_t c) const { return {batch, kImageH / down, kImageW / down, c}; }
};

double f32_bytes(const Shape& s) { return 4.0 * double(shape_numel(s)); }  // bytes of an f32 tensor of shape s

// ---- the cases ----

using InputsFn = std::function<std::vector<Tensor>()>;

// The benchmark's cases, in table order.
class CaseList {
 public:
  void add(std::string op, std::string shape, InputsFn inputs, OpFn fn, double forward_bytes, double backward_bytes,
           bool step_only = false) {
    makers_.push_back(
        {op + " " + shape, [=] { return Case{op, shape, inputs(), fn, forward_bytes, backward_bytes, step_only}; }});
  }
  void add_flops(std::string op, std::string shape, InputsFn inputs, OpFn fn, double forward_flops,
                 double backward_flops) {
    makers_.push_back(
        {op + " " + shape, [=] { return Case{op, shape, inputs(), fn, 0, 0, false, forward_flops, backward_flops}; }});
  }
  const std::vector<CaseMaker>& makers() const { return makers_; }

 private:
  std::vector<CaseMaker> makers_;
};

Tensor relu_op(const std::vector<Tensor>& x) { return ops::relu(x[0]); }
Tensor sigmoid_op(const std::vector<Tensor>& x) { return ops::sigmoid(x[0]); }
Tensor add_op(const std::vector<Tensor>& x) { return ops::add(x[0], x[1]); }
Tensor mul_op(const std::vector<Tensor>& x) { return ops::mul(x[0], x[1]); }
Tensor scale_op(const std::vector<Tensor>& x) { return ops::scale(x[0], 0.5); }
Tensor sum_op(const std::vector<Tensor>& x) { return ops::sum(x[0]); }
// x: input, weight, bias, running mean, running variance.
Tensor bn_train_op(const std::vector<Tensor>& x) {
  return ops::batch_norm(x[0], x[1], x[2], x[3], x[4], /*training=*/true, 0.1, 1e-5);
}
Tensor bn_eval_op(const std::vector<Tensor>& x) {
  return ops::batch_norm(x[0], x[1], x[2], x[3], x[4], /*training=*/false, 0.1, 1e-5);
}
Tensor concat_op(const std::vector<Tensor>& x) { return ops::concat_channels(x); }
Tensor gap_op(const std::vector<Tensor>& x) { return ops::global_avg_pool(x[0]); }
Tensor channel_scale_op(const std::vector<Tensor>& x) { return ops::channel_scale(x[0], x[1]); }
Tensor grouped_softmax_op(const std::vector<Tensor>& x) { return ops::grouped_softmax(x[0], 2); }
Tensor cross_entropy_op(const std::vector<Tensor>& x) { return ops::cross_entropy(x[0], x[1]); }
Tensor argmax_op(const std::vector<Tensor>& x) { return ops::argmax_channels(x[0]); }
Tensor masked_l1_op(const std::vector<Tensor>& x) { return ops::masked_l1(x[0], x[1]); }
Tensor normals_l1_op(const std::vector<Tensor>& x) { return ops::normals_l1(x[0], x[1]); }
Tensor balanced_bce_op(const std::vector<Tensor>& x) { return ops::balanced_bce(x[0], x[1], 0.95); }
Tensor upsampled_cross_entropy_op(const std::vector<Tensor>& x) { return ops::upsampled_cross_entropy(x[0], x[1]); }
Tensor upsampled_masked_l1_op(const std::vector<Tensor>& x) { return ops::upsampled_masked_l1(x[0], x[1]); }

// Optimiser steps over the flat buffers in x; they return nothing (no autograd).
Tensor adam_op(const std::vector<Tensor>& x) {
  Tensor p = x[0], m = x[2], v = x[3];
  kernels::adam_step(p, x[1], m, v, {1e-4, 0.9, 0.999, 1e-8, 1e-4, false, 0.1, 0.001});
  return Tensor();
}
Tensor sgd_op(const std::vector<Tensor>& x) {
  Tensor p = x[0], buf = x[2];
  kernels::sgd_step(p, x[1], buf, {1e-2, 0.9, 1e-4, false});
  return Tensor();
}
Tensor sum_squares_op(const std::vector<Tensor>& x) {
  Tensor out = Tensor::empty({}, DType::F32, x[0].device());
  kernels::sum_squares(x[0], out);
  return out;
}

CaseList make_cases(Bench& b) {
  CaseList cases;
  auto one = [&b](Shape s) { return [&b, s] { return std::vector<Tensor>{b.input(s)}; }; };
  auto two = [&b](Shape s) { return [&b, s] { return std::vector<Tensor>{b.input(s), b.input(s)}; }; };

  // Element-wise ops on every branch.
  for (const auto& br : kBranches) {
    Shape s = b.map(br[0], br[1]);
    double n = f32_bytes(s);
    cases.add("relu", shape_str(s), one(s), relu_op, 2 * n, 3 * n);
    cases.add("add", shape_str(s), two(s), add_op, 3 * n, 3 * n);
  }
  Shape s4 = b.map(4, 18);
  double n4 = f32_bytes(s4);
  cases.add("sigmoid", shape_str(s4), one(s4), sigmoid_op, 2 * n4, 3 * n4);
  cases.add("mul", shape_str(s4), two(s4), mul_op, 3 * n4, 5 * n4);
  cases.add("scale", shape_str(s4), one(s4), scale_op, 2 * n4, 2 * n4);
  cases.add("sum", shape_str(s4), one(s4), sum_op, n4, n4);

  // batch_norm with running statistics: in training a statistics pass and an apply pass forward (3 tensors of
  // traffic), a reduction pass and an input-gradient pass backward (5); in eval one apply pass forward (2) and,
  // backward, the weight/bias reduction (gy, x) and gx = w*invstd*gy (gy in, gx out): 4.
  auto bn_inputs = [&b](Shape s) {
    return [&b, s] {
      int64_t c = s.back();
      return std::vector<Tensor>{b.input(s), b.uniform({c}, 0.5, 1.5, true), b.uniform({c}, -1, 1, true),
                                 Tensor::zeros({c}, DType::F32, b.device),
                                 Tensor::full({c}, 1.0, DType::F32, b.device)};
    };
  };
  for (const auto& br : kBranches) {
    Shape s = b.map(br[0], br[1]);
    cases.add("batch_norm train", shape_str(s), bn_inputs(s), bn_train_op, 3 * f32_bytes(s), 5 * f32_bytes(s));
  }
  cases.add("batch_norm eval", shape_str(s4), bn_inputs(s4), bn_eval_op, 2 * n4, 4 * n4);

  // Upsampling a branch to 1/4 resolution (x2 and x8), and the final upsampling of the 40-class logits (x4).
  struct Resize {
    Shape in;
    int64_t oh, ow;
  };
  const Resize resizes[] = {{b.map(8, 18), kImageH / 4, kImageW / 4},
                            {b.map(32, 144), kImageH / 4, kImageW / 4},
                            {b.map(4, kClasses), kImageH, kImageW}};
  for (const Resize& r : resizes) {
    Shape out{r.in[0], r.oh, r.ow, r.in[3]};
    double bytes = f32_bytes(r.in) + f32_bytes(out);
    int64_t oh = r.oh, ow = r.ow;
    cases.add("resize_bilinear", shape_str(r.in) + "->" + shape_str(out), one(r.in),
              [oh, ow](const std::vector<Tensor>& x) { return ops::resize_bilinear(x[0], oh, ow); }, bytes, bytes);
  }

  // MTI-Net's multi-scale concatenation: the four branches at 1/4 resolution, 18+36+72+144 = 270 channels.
  Shape cat = b.map(4, 270);
  auto branch_maps = [&b] {
    std::vector<Tensor> in;
    for (const auto& br : kBranches) in.push_back(b.input(b.map(4, br[1])));
    return in;
  };
  cases.add("concat_channels", "4 maps->" + shape_str(cat), branch_maps, concat_op, 2 * f32_bytes(cat),
            2 * f32_bytes(cat));
  double sliced = f32_bytes(b.map(4, 72));
  cases.add("slice_channels", shape_str(cat) + "[54:126]", one(cat),
            [](const std::vector<Tensor>& x) { return ops::slice_channels(x[0], 54, 126); }, 2 * sliced,
            f32_bytes(cat) + sliced);

  // The SE gates and the FPM's grouped softmax.
  Shape s8 = b.map(8, 36);
  double n8 = f32_bytes(s8), gate = f32_bytes({s8[0], s8[3]});
  cases.add("global_avg_pool", shape_str(s8), one(s8), gap_op, n8 + gate, n8 + gate);
  cases.add("channel_scale", shape_str(s8),
            [&b, s8] { return std::vector<Tensor>{b.input(s8), b.uniform({s8[0], s8[3]}, 0, 1, true)}; },
            channel_scale_op, 2 * n8, 4 * n8);
  Shape s16 = b.map(16, 144);
  cases.add("grouped_softmax g2", shape_str(s16), one(s16), grouped_softmax_op, 2 * f32_bytes(s16),
            3 * f32_bytes(s16));

  // The heads' outputs at full resolution: the losses and the segmentation prediction.
  Shape logits = b.map(1, kClasses), px{logits[0], logits[1], logits[2]};
  double nl = f32_bytes(logits), labels = 8.0 * double(shape_numel(px));
  cases.add("cross_entropy", shape_str(logits),
            [&b, logits, px] { return std::vector<Tensor>{b.input(logits), b.labels(px, kClasses)}; },
            cross_entropy_op, nl + labels, 2 * nl + labels);
  cases.add("argmax_channels", shape_str(logits), [&b, logits] { return std::vector<Tensor>{b.uniform(logits)}; },
            argmax_op, nl + labels, 0);
  Shape depth = b.map(1, 1), normals = b.map(1, 3);
  cases.add("masked_l1", shape_str(depth),
            [&b, depth] { return std::vector<Tensor>{b.uniform(depth, 0, 10, true), b.uniform(depth, 0, 10)}; },
            masked_l1_op, 2 * f32_bytes(depth), 3 * f32_bytes(depth));
  cases.add("normals_l1", shape_str(normals),
            [&b, normals] { return std::vector<Tensor>{b.input(normals), b.uniform(normals)}; }, normals_l1_op,
            2 * f32_bytes(normals), 3 * f32_bytes(normals));
  cases.add("balanced_bce", shape_str(depth),
            [&b, depth] { return std::vector<Tensor>{b.uniform(depth, -8, 8, true), b.uniform(depth, 0, 1)}; },
            balanced_bce_op, 2 * f32_bytes(depth), 3 * f32_bytes(depth));

  // Deep supervision's fused upsample + loss: the stride-4 maps read at full resolution (the other scales cost the
  // same per label pixel). Unfused, each is a resize_bilinear to full resolution plus the loss above. Bytes: the
  // low-resolution map and the labels forward; backward also the low-resolution gradient.
  Shape low = b.map(4, kClasses), depth_low = b.map(4, 1);
  cases.add("upsampled_cross_entropy", shape_str(low) + "->" + shape_str(px),
            [&b, low, px] { return std::vector<Tensor>{b.input(low), b.labels(px, kClasses)}; },
            upsampled_cross_entropy_op, f32_bytes(low) + labels, 2 * f32_bytes(low) + labels);
  cases.add("upsampled_masked_l1", shape_str(depth_low) + "->" + shape_str(depth),
            [&b, depth_low, depth] {
              return std::vector<Tensor>{b.uniform(depth_low, 0, 10, true), b.uniform(depth, 0, 10)};
            },
            upsampled_masked_l1_op, f32_bytes(depth_low) + f32_bytes(depth),
            2 * f32_bytes(depth_low) + f32_bytes(depth));

  // The optimiser over the flat parameter buffer (its size does not scale with the batch).
  Shape params{kParameters};
  double np = f32_bytes(params);
  auto state = [&b, params](int buffers) {
    return [&b, params, buffers] {
      std::vector<Tensor> in{b.uniform(params), b.uniform(params, -1e-3, 1e-3)};
      for (int i = 0; i < buffers; ++i) in.push_back(Tensor::zeros(params, DType::F32, b.device));
      return in;
    };
  };
  cases.add("adam_step", shape_str(params), state(2), adam_op, 7 * np, 0, true);
  cases.add("sgd_step momentum", shape_str(params), state(1), sgd_op, 5 * np, 0, true);
  cases.add("sum_squares", shape_str(params), state(0), sum_squares_op, np, 0, true);

  // Convolutions (TFLOP/s; TF32 on CUDA unless MTINET_TF32=0): the stem, a bottleneck's 3x3, each branch's
  // BasicBlock 3x3, and the final head's 1x1 convs at 1/4 resolution. Backward computes the input and weight
  // gradients: twice the forward's FLOPs.
  struct Conv {
    Shape in;
    int64_t out_c, k, stride;
    bool bias;
  };
  std::vector<Conv> convs{{{b.batch, kImageH, kImageW, 3}, 64, 3, 2, false},
                          {{b.batch, kImageH / 2, kImageW / 2, 64}, 64, 3, 2, false},
                          {b.map(4, 64), 64, 3, 1, false}};
  for (const auto& br : kBranches) convs.push_back({b.map(br[0], br[1]), br[1], 3, 1, false});
  convs.push_back({b.map(4, 270), 270, 1, 1, true});
  convs.push_back({b.map(4, 270), kClasses, 1, 1, true});
  for (const Conv& c : convs) {
    ops::Conv2dOptions opt;
    opt.stride = int(c.stride);
    opt.padding = int(c.k / 2);
    int64_t oh = (c.in[1] + 2 * opt.padding - c.k) / c.stride + 1;
    int64_t ow = (c.in[2] + 2 * opt.padding - c.k) / c.stride + 1;
    double flops = 2.0 * double(c.in[0] * oh * ow) * double(c.out_c) * double(c.k * c.k * c.in[3]);
    Shape w{c.out_c, c.k, c.k, c.in[3]};
    std::string label = shape_str(c.in) + " k" + std::to_string(c.k) + (c.stride > 1 ? "s2" : "") + "->" +
                        std::to_string(c.out_c);
    auto inputs = [&b, c, w] {
      std::vector<Tensor> in{b.input(c.in), b.uniform(w, -0.1, 0.1, true)};
      if (c.bias) in.push_back(b.uniform({c.out_c}, -0.1, 0.1, true));
      return in;
    };
    auto conv = [opt](const std::vector<Tensor>& x) {
      return ops::conv2d(x[0], x[1], x.size() > 2 ? x[2] : Tensor(), opt);
    };
    cases.add_flops("conv2d", label, inputs, conv, flops, 2 * flops);
  }
  return cases;
}

// ---- timing ----

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

// Median forward time (no autograd recording) in ms.
double time_forward(const Case& c, Device dev, int warmup, int iters) {
  NoGradGuard no_grad;
  std::vector<double> ms;
  for (int i = 0; i < warmup + iters; ++i) {
    synchronize(dev);
    Clock::time_point t0 = Clock::now();
    Tensor y = c.fn(c.inputs);
    synchronize(dev);
    if (i >= warmup) ms.push_back(ms_since(t0));
  }
  return median(ms);
}

// Median backward time in ms: each iteration runs the forward (untimed), then times backward from a fixed
// upstream gradient. Gradients are cleared first so every backward writes them fresh instead of accumulating.
double time_backward(const Case& c, Device dev, int warmup, int iters) {
  std::vector<double> ms;
  Tensor gy;
  for (int i = 0; i < warmup + iters; ++i) {
    for (const Tensor& x : c.inputs) x.impl().grad.reset();
    Tensor y = c.fn(c.inputs);
    if (!gy.defined()) gy = Tensor::full(y.shape(), 1e-3, y.dtype(), dev);
    synchronize(dev);
    Clock::time_point t0 = Clock::now();
    y.backward(gy);
    synchronize(dev);
    if (i >= warmup) ms.push_back(ms_since(t0));
  }
  return median(ms);
}

// One table row: bandwidth from `bytes`, or the FLOP rate when the case counts FLOPs for this pass.
void print_row(const Case& c, const char* pass, double ms, double bytes, double flops) {
  char rate[32];
  double flop_rate = flops / (ms * 1e-3);
  if (flops > 0 && flop_rate >= 1e12) std::snprintf(rate, sizeof rate, "%.2f TFLOP/s", flop_rate / 1e12);
  else if (flops > 0) std::snprintf(rate, sizeof rate, "%.1f GFLOP/s", flop_rate / 1e9);  // the CPU's range
  else std::snprintf(rate, sizeof rate, "%.1f GB/s", bytes / (ms * 1e-3) / 1e9);
  std::printf("%-20s %-44s %-8s %10.3f %16s\n", c.op.c_str(), c.shape.c_str(), pass, ms, rate);
  std::fflush(stdout);
}

void print_usage() {
  std::printf(
      "usage: mtinet bench kernels [--device cuda|cpu] [--iters N] [--warmup N] [--scale-down]\n"
      "       mtinet bench train --config FILE ... (whole training steps; mtinet bench train --help)\n"
      "       mtinet bench loader --data DIR ... (the data loader alone; mtinet bench loader --help)\n"
      "       mtinet bench epoch --config FILE --data DIR ... (one training epoch; mtinet bench epoch --help)\n\n"
      "Times each op's forward and backward at MTI-Net's shapes (480x640 images, batch 8, NHWC) and prints the\n"
      "median time and the achieved bandwidth (minimal bytes read + written / time), or FLOP rate for conv2d.\n"
      "  --device      cuda (default when a GPU is present) or cpu\n"
      "  --iters N     timed iterations per pass (default 20 on cuda, 3 on cpu)\n"
      "  --warmup N    untimed iterations before them (default 3 on cuda, 1 on cpu)\n"
      "  --scale-down  batch 1 instead of 8 (for a quick run on the CPU)\n");
}

}  // namespace

int cmd_bench(const std::vector<std::string>& argv) {
  if (!argv.empty() && argv[0] == "train") {
    return cmd_bench_train(std::vector<std::string>(argv.begin() + 1, argv.end()));
  }
  if (!argv.empty() && argv[0] == "loader") {
    return cmd_bench_loader(std::vector<std::string>(argv.begin() + 1, argv.end()));
  }
  if (!argv.empty() && argv[0] == "epoch") {
    return cmd_bench_epoch(std::vector<std::string>(argv.begin() + 1, argv.end()));
  }
  Args args(argv, {"device", "iters", "warmup"}, {"scale-down", "help"});
  if (args.has("help")) {
    print_usage();
    return 0;
  }
  if (args.positional().size() != 1 || args.positional()[0] != "kernels") {
    print_usage();
    return 2;
  }
  Device dev = parse_device(args.get("device", "auto"));
  bool cuda = dev == Device::CUDA;
  Bench b{dev, args.has("scale-down") ? 1 : kBatch, int(args.get_int("warmup", cuda ? 3 : 1)),
          int(args.get_int("iters", cuda ? 20 : 3))};
  MTINET_CHECK(b.iters >= 1 && b.warmup >= 0, "bench: --iters must be >= 1 and --warmup >= 0");

  std::printf("mtinet kernel benchmark: device %s, f32, batch %lld at %lldx%lld, %d timed iterations after %d "
              "warm-up\n",
              device_name(dev), (long long)b.batch, (long long)kImageH, (long long)kImageW, b.iters, b.warmup);
  std::printf("ms: median per pass; GB/s: minimal bytes read + written / time; TFLOP/s for the convolutions%s\n\n",
              cuda ? " (TF32 as configured)" : "");
  std::printf("%-20s %-44s %-8s %10s %16s\n", "op", "shape", "pass", "ms", "rate");
  Clock::time_point start = Clock::now();
  CaseList cases = make_cases(b);
  int failed = 0;
  for (const CaseMaker& maker : cases.makers()) {
    // A case that throws (an op not available on this device, out of memory) is reported and the rest still run.
    try {
      Case c = maker.make();
      if (c.step_only) {
        print_row(c, "step", time_forward(c, dev, b.warmup, b.iters), c.forward_bytes, 0);
        continue;
      }
      print_row(c, "forward", time_forward(c, dev, b.warmup, b.iters), c.forward_bytes, c.forward_flops);
      bool differentiable = false;
      for (const Tensor& x : c.inputs) differentiable = differentiable || x.requires_grad();
      if (differentiable)
        print_row(c, "backward", time_backward(c, dev, b.warmup, b.iters), c.backward_bytes, c.backward_flops);
    } catch (const std::exception& e) {
      std::printf("%s: not available: %s\n", maker.label.c_str(), e.what());
      ++failed;
    }
  }
  std::printf("\ntotal %.1f s", ms_since(start) * 1e-3);
  if (failed) std::printf(", %d case(s) not available", failed);
  std::printf("\n");
  return failed ? 1 : 0;
}

}  // namespace mtinet
