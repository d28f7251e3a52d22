// mtinet bench epoch: the wall time of one training epoch of a configured model on a dataset on disk (the data
// loader on its worker threads feeding forward, losses, backward and optimiser steps), without the trainer's
// checkpoints, logging and evaluation. It shows whether the loader keeps the model fed (time spent waiting for
// batches) and gives the epoch time of a dataset without a full training run.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <tuple>

#include "core/device.h"
#include "core/parameter_set.h"
#include "data/dataset_factory.h"
#include "data/loader.h"
#include "data/pascal.h"
#include "model/factory.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "train/config.h"
#include "train/optimizer.h"
#include "train/task_losses.h"

namespace mtinet {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

void print_usage() {
  std::printf(
      "usage: mtinet bench epoch --config FILE --data DIR [--layout nyud|pascal] [--size HxW] [--batch B]\n"
      "                          [--device cpu|cuda]\n\n"
      "Times one epoch of the train split: loader (the layout's reference augmentation) and training steps of the\n"
      "config's model with its tasks' fixed loss weights. Prints the epoch's wall time, the time spent waiting\n"
      "for batches and the mean step time.\n"
      "  --layout    nyud or pascal (flip, scale 0.75..1.25, rotation +-20 deg); default: the config's data.dataset\n"
      "  --size HxW  input size (default: the config's data.size)\n"
      "  --batch B   images per step (default: the config's batch_size)\n");
}

}  // namespace

int cmd_bench_epoch(const std::vector<std::string>& argv) {
  Args args(argv, {"config", "data", "layout", "size", "batch", "device"}, {"help"});
  if (args.has("help")) {
    print_usage();
    return 0;
  }
  TrainConfig cfg = load_train_config(args.require("config"));
  Device dev = parse_device(args.get("device", cfg.device));
  std::string layout = args.get("layout", cfg.data.dataset);
  int64_t h = cfg.data.height, w = cfg.data.width;
  if (args.has("size")) std::tie(h, w) = parse_size(args.get("size", ""));

  std::shared_ptr<MultiTaskNetwork> model = build_model(cfg.model);
  model->to(dev);
  model->train(true);
  ParameterSet params(model->parameters());
  Optimizer optimizer(params, cfg.optimizer);
  const TaskSet& tasks = model->tasks();

  LoaderConfig lc;
  lc.batch_size = args.get_int("batch", cfg.batch_size);
  lc.threads = cfg.data.threads;
  lc.seed = cfg.seed;
  if (layout == "pascal") {
    lc.aug = pascal_augment_config();
  } else {
    lc.aug.scales = cfg.data.scales;
    lc.aug.rotations = cfg.data.rotations;
  }
  lc.aug.out_h = h;
  lc.aug.out_w = w;
  Loader loader(open_dataset(layout, args.require("data"), cfg.data.train_split, tasks.label_names()), lc);
  std::printf("mtinet epoch benchmark: %s (tasks %s) on %s, %s layout, %lld batches of %lld at %lldx%lld, "
              "%d loader threads\n",
              cfg.model.model.c_str(), cfg.model.tasks.c_str(), device_name(dev), layout.c_str(),
              static_cast<long long>(loader.batches_per_epoch()), static_cast<long long>(lc.batch_size),
              static_cast<long long>(h), static_cast<long long>(w), lc.threads);
  std::fflush(stdout);

  Clock::time_point start = Clock::now();
  loader.start({0, 0});
  double waiting = 0, stepping = 0, last_loss = 0;
  int64_t steps = 0;
  for (Batch b;;) {
    Clock::time_point t0 = Clock::now();
    if (!loader.next(b)) break;
    waiting += seconds_since(t0);
    t0 = Clock::now();
    std::map<std::string, Tensor> on_device;
    for (auto& [name, t] : b.tensors) on_device[name] = t.to(dev);
    params.zero_grad();
    ModelOutput out = model->forward(on_device.at("image"), FinalPredictions::BeforeUpsampling);
    Tensor total = fixed_weighted_total(tasks, compute_task_losses(tasks, out, on_device));
    total.backward();
    optimizer.step(cfg.optimizer.lr);
    last_loss = total.detach().to(Device::CPU).item();  // synchronises: the step is done
    stepping += seconds_since(t0);
    ++steps;
  }
  double epoch = seconds_since(start);
  std::printf("one epoch: %.2f s (%lld steps, %.1f ms/step, %.2f s waiting for batches), last loss %.4f\n", epoch,
              static_cast<long long>(steps), 1e3 * stepping / double(std::max<int64_t>(steps, 1)), waiting,
              last_loss);
  MTINET_CHECK(std::isfinite(last_loss), "bench epoch: the loss is not finite (", last_loss, ")");
  return 0;
}

}  // namespace mtinet
