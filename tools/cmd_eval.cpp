// mtinet eval: evaluates weights on a split of the config's dataset, optionally against single-task results (the
// multi-task delta) and the trivial baseline.
//
// Output files: --out FILE (default results.json) holds everything, {"config", "weights", "split", "results": {task:
// metrics}, "multitask_delta"?, "trivial_comparison"?}; next to it, <task>.json holds that task's metrics alone, as
// the reference writes one file per task. Either kind of file is accepted by --single-task-results.
//
// Under `mpirun -np N` each rank evaluates a share of the split's batches and the metric accumulators are summed
// (train/sharded_eval.h); rank 0 prints and writes the results, the same as one process's.
#include <cstdio>

#include "data/dataset_factory.h"
#include "eval/evaluate.h"
#include "eval/metrics_table.h"
#include "eval/multitask_delta.h"
#include "eval/predictor.h"
#include "eval/single_task_results.h"
#include "eval/trivial_baseline.h"
#include "core/compute_threads.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "train/config.h"
#include "train/distributed.h"
#include "train/sharded_eval.h"

namespace mtinet {

int cmd_eval(const std::vector<std::string>& argv) {
  Args args(argv, {"config", "weights", "split", "out", "single-task-results", "device", "set", "threads"},
            {"help", "trivial", "per-class"});
  if (args.has("help")) {
    std::printf(
        "usage: mtinet eval --config FILE --weights W.safetensors [--split val] [--out results.json]\n"
        "                   [--single-task-results task=FILE]... [--trivial] [--per-class] [--device cpu|cuda]\n"
        "                   [--set key=value]...\n\n"
        "Evaluates the weights on a split of the config's dataset (each image resized to data.size, predictions\n"
        "resized back to the label resolution). Writes all results to --out and each task's metrics to <task>.json\n"
        "beside it, and prints the scalar metrics as a table (--per-class adds each class's IoU, by name).\n"
        "With single-task results for every main task (the config's single_task_results, {task: FILE or metrics},\n"
        "and/or --single-task-results task=FILE, which wins for its task), adds the multi-task delta dm (percent).\n"
        "--trivial fits constant predictors on the training split and prints task | metric | model | trivial | beats.\n");
    return 0;
  }
  dist::Session session;  // under mpirun each rank evaluates a share of the split; rank 0 reports and writes
  dist::quiet_other_ranks();
  TrainConfig cfg = load_train_config(args.require("config"), args.all("set"));
  set_compute_threads(int(args.has("threads") ? args.get_int("threads", 0) : cfg.threads));
  std::string weights = args.require("weights");
  std::string split = args.get("split", cfg.data.val_split);
  Device device = parse_device(args.get("device", cfg.device));

  Predictor predictor(cfg.model, weights, cfg.data.height, cfg.data.width, device, cfg.data.normalize);
  const TaskSet& tasks = predictor.model().tasks();
  std::shared_ptr<Dataset> opened = open_dataset(cfg.data.dataset, cfg.data.root, split, tasks.main_names());
  const Dataset& data = *opened;
  EvalSettings settings;
  settings.height = cfg.data.height;
  settings.width = cfg.data.width;
  settings.batch_size = cfg.batch_size;
  settings.threads = cfg.data.threads;
  settings.device = device;
  settings.normalize = cfg.data.normalize;
  shard_over_ranks(settings);
  std::printf("evaluating '%s' on %s (%zu images)", weights.c_str(), data.name().c_str(), data.size());
  if (settings.shards > 1) std::printf(", split over %d ranks", settings.shards);
  std::printf("\n");
  nlohmann::json results = evaluate_model(predictor.model(), data, settings);
  std::printf("%s", metrics_table(results).c_str());
  if (args.has("per-class")) std::printf("%s", per_class_iou_table(results).c_str());

  nlohmann::json out = {{"config", cfg.source}, {"weights", weights}, {"split", split}, {"results", results}};
  // The config's single-task results, each replaced by a --single-task-results task=FILE given for its task.
  nlohmann::json spec = cfg.single_task_results;
  for (const std::string& flag : args.all("single-task-results")) {
    size_t eq = flag.find('=');
    MTINET_CHECK(eq != std::string::npos && eq > 0, "--single-task-results expects task=FILE, got '", flag, "'");
    spec[flag.substr(0, eq)] = flag.substr(eq + 1);
  }
  nlohmann::json stl = resolve_single_task_results(spec, tasks.main_names());
  if (!stl.empty()) {
    nlohmann::json mtl = nlohmann::json::object();
    for (const std::string& t : tasks.main_names()) mtl[t] = results.at(t);
    out["multitask_delta"] = multitask_delta(mtl, stl);
    std::printf("multi-task delta dm = %+.3f %%\n", out["multitask_delta"]["dm"].get<double>());
  }
  if (args.has("trivial")) {
    std::shared_ptr<Dataset> train = open_dataset(cfg.data.dataset, cfg.data.root, cfg.data.train_split,
                                                  tasks.main_names());
    TrivialBaseline baseline = fit_trivial_baseline(*train, tasks.main, cfg.data.threads);
    nlohmann::json trivial = evaluate_trivial_baseline(baseline, tasks, data, settings);
    nlohmann::json model_metrics = nlohmann::json::object();
    for (const std::string& t : tasks.main_names()) model_metrics[t] = results.at(t);
    TrivialComparison c = beats_trivial(model_metrics, trivial);
    std::printf("%s", c.table().c_str());
    out["trivial_comparison"] = c.to_json();
    out["trivial_comparison"]["fitted"] = baseline.fitted;
    out["trivial_results"] = trivial;
  }

  if (!dist::is_root()) return 0;  // rank 0 alone writes the files
  std::string out_path = args.get("out", "results.json");
  for (const std::string& p : write_eval_results(out_path, out, results)) std::printf("wrote %s\n", p.c_str());
  return 0;
}

}  // namespace mtinet
