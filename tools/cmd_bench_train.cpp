// mtinet bench train: times whole training steps of a configured model on synthetic data (no dataset needed):
// forward, the per-task losses (final + deep supervision), their sum with the tasks' fixed loss weights, backward
// and the optimiser step. The device is synchronised before every clock read. After the timed steps, one more step
// runs with the kernel profiler on (which synchronises around every kernel, so it is kept out of the timing) and
// gives the per-kernel time breakdown.
//
// Under `mpirun -np N` every rank times its share (batch / N images) of each step plus the gradient all-reduce, as
// data-parallel training runs them (overlapped with backward unless distributed.overlap is false); images/s counts all
// ranks' images, and the all-reduce's time per step is given: in MPI calls, and the part exposed after backward.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/device.h"
#include "core/parameter_set.h"
#include "core/profiler.h"
#include "core/thread_governor.h"
#include "core/rng.h"
#include "model/factory.h"
#include "core/compute_threads.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "train/config.h"
#include "train/distributed.h"
#include "kernels/optimizer/optimizer.h"
#include "train/optimizer.h"
#include "train/overlapped_gradient_sum.h"
#include "data/synthetic_batch.h"
#include "train/task_losses.h"

#ifdef MTINET_WITH_CUDA
#include "core/cuda_runtime.h"
#include "kernels/conv/conv2d.h"
#endif

namespace mtinet {

namespace {

void reset_peak(Device d) {
#ifdef MTINET_WITH_CUDA
  if (d == Device::CUDA) cuda::reset_peak_memory();
#else
  (void)d;
#endif
}

// Peak bytes: the CUDA allocator's high-water mark since reset_peak, or the process's peak resident set on the CPU.
double peak_mib(Device d) {
#ifdef MTINET_WITH_CUDA
  if (d == Device::CUDA) return double(cuda::memory_stats().peak) / (1024.0 * 1024.0);
#endif
  (void)d;
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return double(usage.ru_maxrss) / 1024.0;  // Linux reports kilobytes
}

long minor_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct TrainStep {
  MultiTaskNetwork& model;
  ParameterSet& params;
  Optimizer& optimizer;
  const std::map<std::string, Tensor>& batch;
  double lr;
  const DistributedConfig& distributed;
  OverlappedGradientSum* overlapped;  // several ranks with distributed.overlap, else null

  // One step; returns the weighted total loss (read only when asked, since reading it synchronises).
  Tensor run() {
    const TaskSet& tasks = model.tasks();
    params.zero_grad();
    ModelOutput out = model.forward(batch.at("image"), FinalPredictions::BeforeUpsampling);
    Tensor total = fixed_weighted_total(tasks, compute_task_losses(tasks, out, batch));
    if (overlapped) {
      overlapped->backward(total);
    } else {
      total.backward();
    }
    if (dist::size() > 1) {  // the data-parallel mean of the gradients (train/trainer_parallel.cpp)
      Tensor g = params.flat_grads();
      if (overlapped) {
        overlapped->wait();
      } else {
        dist::allreduce_sum(g, distributed.bucket_bytes());
      }
      kernels::scale_by(g, Tensor::full({}, 1.0 / dist::size(), g.dtype(), g.device()));
    }
    optimizer.step(lr);
    return total.detach();
  }
};

// One evaluation pass instead: the model in eval mode (BatchNorm on its running statistics), forward only, no graph
// recorded, as `mtinet eval` and `predict` run it.
struct EvalStep {
  MultiTaskNetwork& model;
  const std::map<std::string, Tensor>& batch;

  Tensor run() {
    NoGradGuard no_grad;
    ModelOutput out = model.forward(batch.at("image"));
    return out.tasks.begin()->second;
  }
};

std::string format_mib(int64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.3g", double(bytes) / (1024.0 * 1024.0));
  return text;
}

void print_usage() {
  std::printf(
      "usage: mtinet bench train --config FILE [--batch B] [--size HxW] [--steps N] [--warmup W]\n"
      "                          [--device cpu|cuda] [--threads N] [--set key=value]... [--eval]\n\n"
      "Times training steps (forward, losses, backward, optimiser step) of the config's model on synthetic inputs\n"
      "and labels, then profiles one extra step per kernel. Under mpirun -np N, N ranks share each step's batch\n"
      "and all-reduce the gradients (during backward, bucket by bucket, unless the config's distributed.overlap is\n"
      "false), and the all-reduce time per step is reported: in MPI calls, and exposed (waited for after backward).\n"
      "  --batch B   images per step, all ranks together (default: the config's batch_size)\n"
      "  --size HxW  input size (default: the config's data.size)\n"
      "  --steps N   timed steps (default 10 on cuda, 3 on cpu)\n"
      "  --warmup W  untimed steps before them (default 3 on cuda, 1 on cpu)\n"
      "  --device    cuda or cpu (default: the config's device; auto = cuda when present)\n"
      "  --threads N CPU compute threads (default: the config's 'threads'; 0 = every core available)\n"
      "  --set k=v   overrides a config key, as for train (e.g. distributed.overlap=false)\n"
      "  --eval      time evaluation passes instead (eval mode, forward only, no gradients)\n");
}

void print_breakdown(double step_ms) {
  std::vector<profiler::KernelStat> stats = profiler::kernel_stats();
  double sum = 0;
  for (const auto& s : stats) sum += s.total_ms;
  std::printf("\nper-kernel time of one profiled step (%.1f ms wall with profiling syncs, %.1f ms inside kernels):\n",
              step_ms, sum);
  std::printf("%-32s %-5s %8s %12s %10s %8s\n", "kernel", "dev", "calls", "total ms", "ms/call", "%");
  for (const auto& s : stats) {
    std::printf("%-32s %-5s %8lld %12.3f %10.4f %7.1f%%\n", s.name.c_str(), device_name(s.device),
                (long long)s.calls, s.total_ms, s.total_ms / double(s.calls), sum > 0 ? 100.0 * s.total_ms / sum : 0);
  }
}

}  // namespace

int cmd_bench_train(const std::vector<std::string>& argv) {
  Args args(argv, {"config", "batch", "size", "steps", "warmup", "device", "threads", "set"}, {"help", "eval"});
  if (args.has("help")) {
    print_usage();
    return 0;
  }
  if (!args.has("config") || !args.positional().empty()) {
    print_usage();
    return 2;
  }
  dist::Session session;
  dist::quiet_other_ranks();
  TrainConfig cfg = load_train_config(args.require("config"), args.all("set"));
  set_compute_threads(int(args.has("threads") ? args.get_int("threads", 0) : cfg.threads));
  Device dev = parse_device(args.get("device", cfg.device));
  const bool cuda = dev == Device::CUDA;
  int64_t h = cfg.data.height, w = cfg.data.width;
  if (args.has("size")) {
    auto [sh, sw] = parse_size(args.get("size", ""));
    h = sh, w = sw;
  }
  const int64_t batch_size = args.get_int("batch", cfg.batch_size);
  const int steps = int(args.get_int("steps", cuda ? 10 : 3));
  const int warmup = int(args.get_int("warmup", cuda ? 3 : 1));
  MTINET_CHECK(batch_size >= 1 && steps >= 1 && warmup >= 0,
               "bench train: --batch and --steps must be >= 1 and --warmup >= 0");
  MTINET_CHECK(batch_size % dist::size() == 0, "bench train: the batch of ", batch_size, " does not split evenly over ",
               dist::size(), " ranks");
  const int64_t rank_batch = batch_size / dist::size();

  std::shared_ptr<MultiTaskNetwork> model = build_model(cfg.model);
  model->to(dev);
  model->train(!args.has("eval"));
  // Training only: the flat gradient buffer and the optimiser state are not part of evaluation's memory.
  std::optional<ParameterSet> params;
  std::optional<Optimizer> optimizer;
  if (!args.has("eval")) {
    params.emplace(model->parameters());
    optimizer.emplace(*params, cfg.optimizer);
  }
  int64_t parameter_count = 0;
  for (const Tensor& p : model->parameters()) parameter_count += p.numel();
  Rng rng(cfg.seed + 1 + uint64_t(dist::world().rank));
  std::map<std::string, Tensor> batch = synthetic_batch(model->tasks(), rank_batch, h, w, rng, DType::F32, dev);
  const bool eval = args.has("eval");
  MTINET_CHECK(!eval || dist::size() == 1, "bench train --eval runs in one process (evaluation has no all-reduce)");
  std::unique_ptr<OverlappedGradientSum> overlapped;
  if (dist::size() > 1 && cfg.distributed.overlap)
    overlapped = std::make_unique<OverlappedGradientSum>(*params, cfg.distributed.bucket_bytes());
  std::optional<TrainStep> train_step;
  if (!eval) train_step.emplace(TrainStep{*model, *params, *optimizer, batch, cfg.optimizer.lr, cfg.distributed,
                                          overlapped.get()});
  EvalStep eval_step{*model, batch};
  auto step = [&] { return eval ? eval_step.run() : train_step->run(); };

  std::printf("mtinet %s benchmark: %s (%s, tasks %s), %s, f32, batch %lld at %lldx%lld, %lld parameters%s%s\n",
              eval ? "evaluation" : "training", cfg.model.model.c_str(), cfg.model.backbone.c_str(),
              cfg.model.tasks.c_str(), device_name(dev), (long long)batch_size, (long long)h, (long long)w,
              (long long)parameter_count, eval ? "" : ", optimizer ", eval ? "" : cfg.optimizer.type.c_str());
  if (dist::size() > 1) {
    std::string mib = format_mib(cfg.distributed.bucket_bytes());
    std::string how = overlapped ? "overlapped with backward, " + std::to_string(overlapped->buckets().size()) +
                                       " bucket(s) of ~" + mib + " MiB"
                                 : "after backward (distributed.overlap false), in messages of " + mib + " MiB";
    std::printf("data parallel: %d ranks x %lld images; gradient all-reduce %s\n", dist::size(),
                static_cast<long long>(rank_batch), how.c_str());
  }
  reset_peak(dev);
  // The first step also picks every convolution's cuDNN algorithm (cudnnFind benchmarks each shape once): timed on
  // its own so that cost is visible and stays out of the steady-state numbers.
  for (int i = 0; i < warmup; ++i) {
    synchronize(dev);
    Clock::time_point t0 = Clock::now();
    step();
    synchronize(dev);
    if (i == 0)
      std::printf("first step (includes the cuDNN algorithm search on cuda): %.1f ms\n",
                  std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  // As training runs its steps: fewer threads while another process holds the cores (core/thread_governor.h).
  ThreadGovernor governor(compute_threads(), !cuda);
  std::vector<double> ms;
  const long faults_before = minor_faults();
  double last_loss = 0;
  double allreduce_s = dist::allreduce_seconds(), exposed_s = dist::allreduce_exposed_seconds();
  int64_t started_early = 0;
  double nodes_left = 0;  // summed over the buckets of every timed step: the fraction of backward's nodes still to run
  for (int i = 0; i < steps; ++i) {
    synchronize(dev);
    Clock::time_point t0 = Clock::now();
    governor.step_started();
    Tensor loss = step();
    synchronize(dev);
    governor.step_finished();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    last_loss = eval ? 0.0 : loss.to(Device::CPU).item();
    if (overlapped) {
      started_early += overlapped->started_before_last_node();
      double nodes = double(std::max<int64_t>(1, overlapped->backward_nodes()));
      for (int64_t at : overlapped->bucket_start_nodes()) nodes_left += std::max(0.0, 1.0 - double(at + 1) / nodes);
    }
  }
  double mean = 0;
  for (double m : ms) mean += m / double(ms.size());
  double med = median(ms);
  std::printf("%d timed %s after %d warm-up: %.1f ms/step mean, %.1f ms/step median, %.2f images/s (median)",
              steps, eval ? "evaluation passes" : "steps", warmup, mean, med, double(batch_size) / (med * 1e-3));
  if (eval) {
    std::printf("\n");
  } else {
    std::printf(", last loss %.4f\n", last_loss);
  }
  if (dist::size() > 1) {
    // In MPI calls on the host: the blocking sum, or the overlapped path's starts, polls and final wait. Exposed: the
    // time the step stood still for the sum after backward (all of it on the blocking path). On CUDA with NCCL both
    // count queueing only (the transfer runs on a stream; its cost shows in the step time).
    std::printf("all-reduce of %.1f MiB of gradients: %.2f ms/step in MPI calls, %.2f ms/step exposed (waiting after "
                "backward) (rank 0, mean over the timed steps)\n",
                double(params->flat_grads().nbytes()) / (1024.0 * 1024.0),
                (dist::allreduce_seconds() - allreduce_s) * 1e3 / steps,
                (dist::allreduce_exposed_seconds() - exposed_s) * 1e3 / steps);
    if (overlapped) {
      size_t n = overlapped->buckets().size();
      std::printf("buckets started before backward's last node: %.1f of %zu per step, on average with %.0f%% of its "
                  "%lld nodes still to run\n",
                  double(started_early) / steps, n, 100.0 * nodes_left / (double(steps) * double(n)),
                  static_cast<long long>(overlapped->backward_nodes()));
    }
  }
  std::printf("peak memory: %.1f MiB (%s)\n", peak_mib(dev), cuda ? "CUDA allocator high-water mark" : "peak RSS");
  if (governor.steps_below_configured() > 0) {
    std::printf("compute threads: %lld of the %d timed steps ran on fewer than the %d configured (the cores were "
                "busy with other work)\n",
                (long long)governor.steps_below_configured(), steps, governor.configured());
  }
  if (!cuda) {  // steady state: the CPU allocator's block cache should leave next to no page faults per step
    std::printf("page faults: %.0f per step (minor, mean over the timed steps)\n",
                double(minor_faults() - faults_before) / steps);
  }
  MTINET_CHECK(std::isfinite(last_loss), "bench train: the loss is not finite (", last_loss, ")");
#ifdef MTINET_WITH_CUDA
  if (cuda) {
    std::vector<std::string> plans = kernels::conv2d_cuda_plans();
    std::printf("\ncuDNN algorithms chosen per convolution (%zu shapes; input NxHxWxC -> Cout):\n", plans.size());
    for (const std::string& line : plans) std::printf("%s\n", line.c_str());
  }
#endif

  {
    profiler::ProfileGuard on(/*timing=*/true, /*macs=*/false);
    profiler::reset();
    synchronize(dev);
    Clock::time_point t0 = Clock::now();
    step();
    synchronize(dev);
    print_breakdown(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    profiler::reset();
  }
  return 0;
}

}  // namespace mtinet
