// mtinet train: trains a model from a JSON config.
#include <cstdio>

#include "core/compute_threads.h"
#include "eval/evaluate.h"
#include "eval/multitask_delta.h"
#include "eval/single_task_results.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "train/distributed.h"
#include "train/trainer.h"

namespace mtinet {

int cmd_train(const std::vector<std::string>& argv) {
  Args args(argv, {"config", "set", "resume", "device", "threads"}, {"help"});
  if (args.has("help")) {
    std::printf(
        "usage: mtinet train --config FILE [--set key=value]... [--resume STATE|latest] [--device cpu|cuda]\n\n"
        "Trains the model the config describes (configs/*.json). Every step appends a JSON line to\n"
        "<checkpoint.dir>/metrics.jsonl; every checkpoint.every_epochs epochs the weights (reference names, loadable\n"
        "by `mtinet predict` and PyTorch) and the training state are saved there. Unless log.tensorboard is false, the\n"
        "same scalars go to a TensorBoard event file beside it (tensorboard --logdir <checkpoint.dir>).\n"
        "Exit status 3: training finished, but records of those logs could not be written (see the messages).\n\n"
        "Data parallel: `mpirun -np N mtinet train ...` trains on N processes (one GPU each on CUDA); batch_size stays\n"
        "the global batch (each rank computes batch_size/N of it), the gradient all-reduce overlaps backward\n"
        "(distributed.overlap), each rank evaluates a share of the val split, and rank 0 alone logs and checkpoints.\n"
        "grad_accumulation A splits each rank's share into A micro-batches. See README, 'Training on several processes'.\n\n"
        "  --config FILE        the experiment's JSON config\n"
        "  --set key=value      override a config entry, e.g. --set epochs=2 --set optimizer.lr=1e-3\n"
        "  --resume STATE       continue from a '*.state.safetensors' checkpoint, or 'latest' in checkpoint.dir\n"
        "  --device cpu|cuda    where to train (default: the config's device, 'auto' = cuda when available)\n"
        "  --threads N          CPU compute threads (default: the config's 'threads'; 0 = every core available)\n");
    return 0;
  }
  dist::Session session;  // one rank of `mpirun -np N mtinet train`, or a world of one
  dist::quiet_other_ranks();
  std::vector<std::string> overrides = args.all("set");
  if (args.has("device")) overrides.push_back("device=" + args.get("device", ""));
  TrainConfig cfg = load_train_config(args.require("config"), overrides);
  set_compute_threads(int(args.has("threads") ? args.get_int("threads", 0) : cfg.threads));
  Trainer trainer(cfg);
  std::printf("training %s (%s) on %s, %lld parameters\n", cfg.model.model.c_str(), cfg.model.tasks.c_str(),
              device_name(trainer.device()), static_cast<long long>(trainer.model().parameter_count()));
  // Read before training, so a missing results file stops the run now rather than after it.
  nlohmann::json stl = resolve_single_task_results(cfg.single_task_results, trainer.model().tasks().main_names());
  if (dist::size() > 1 || cfg.grad_accumulation > 1) {
    std::printf("data parallel: %d rank(s) x grad_accumulation %lld: each pass sees %lld image(s) of the global "
                "batch of %lld\n", dist::size(), static_cast<long long>(cfg.grad_accumulation),
                static_cast<long long>(cfg.batch_size / (dist::size() * cfg.grad_accumulation)),
                static_cast<long long>(cfg.batch_size));
  }
  if (dist::size() > 1) {
    std::printf("gradient all-reduce: %s, buckets of %g MiB\n",
                cfg.distributed.overlap ? "overlapped with backward" : "after backward (distributed.overlap false)",
                cfg.distributed.bucket_mib);
  }
  if (args.has("resume")) {
    trainer.resume(args.get("resume", ""));
  } else {
    trainer.start_fresh();
  }
  TrainSummary s = trainer.run();
  // Per-class arrays (IoU, counts) stay in the JSON log; the terminal gets the scalar metrics.
  std::printf("done: %lld steps; final evaluation: %s\n", static_cast<long long>(s.steps),
              scalar_metrics(s.last_eval).dump().c_str());
  if (!stl.empty() && !s.last_eval.empty()) {
    nlohmann::json mtl = nlohmann::json::object();
    for (const auto& item : stl.items()) mtl[item.key()] = s.last_eval.at(item.key());
    std::printf("multi-task delta against the config's single_task_results: dm = %+.3f %%\n",
                multitask_delta(mtl, stl)["dm"].get<double>());
  }
  if (s.log_records_lost > 0) {
    // The weights are saved, but the log that says how they were reached has holes: a script comparing runs by
    // their logs must not take this one for complete, so the command fails (3: not an error of the training itself).
    std::fprintf(stderr, "\nmtinet train: %lld log record(s) were never written (see the errors above); the "
                 "checkpoints are complete, the training curves are not.\n", static_cast<long long>(s.log_records_lost));
    return 3;
  }
  return 0;
}

}  // namespace mtinet
