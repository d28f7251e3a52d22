// mtinet eval: evaluates weights on a split of the config's dataset, optionally against single-task results (the
// multi-task delta) and the trivial baseline.
//
// Output files: --out FILE (default results.json) holds everything, {"config", "weights", "split", "results": {task:
// metrics}, "multitask_delta"?, "trivial_comparison"?}; next to it, <task>.json holds that task's metrics alone, as
// the reference writes one file per task. Either kind of file is accepted by --single-task-results.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "data/nyud.h"
#include "eval/evaluate.h"
#include "eval/metrics_table.h"
#include "eval/multitask_delta.h"
#include "eval/predictor.h"
#include "eval/trivial_baseline.h"
#include "core/compute_threads.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "train/config.h"

namespace mtinet {

namespace fs = std::filesystem;

namespace {

nlohmann::json read_json(const std::string& path) {
  std::ifstream f(path);
  MTINET_CHECK(f.good(), "cannot open '", path, "'");
  try {
    return nlohmann::json::parse(f);
  } catch (const std::exception& e) {
    MTINET_FAIL("'", path, "' is not valid JSON: ", e.what());
  }
}

// A task's metrics from a per-task file ({"mIoU": ...}) or a combined one ({"results": {task: ...}} or {task: ...}).
nlohmann::json task_results_from_file(const std::string& path, const std::string& task) {
  nlohmann::json j = read_json(path);
  if (j.contains("results") && j["results"].contains(task)) return j["results"][task];
  if (j.contains(task) && j[task].is_object()) return j[task];
  return j;
}

}  // namespace

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
        "With single-task results for every main task, adds the multi-task delta dm (percent).\n"
        "--trivial fits constant predictors on the training split and prints task | metric | model | trivial | beats.\n");
    return 0;
  }
  TrainConfig cfg = load_train_config(args.require("config"), args.all("set"));
  set_compute_threads(int(args.has("threads") ? args.get_int("threads", 0) : cfg.threads));
  MTINET_CHECK(cfg.data.dataset == "nyud", "eval: dataset '", cfg.data.dataset, "' is not supported (nyud layout only)");
  std::string weights = args.require("weights");
  std::string split = args.get("split", cfg.data.val_split);
  Device device = parse_device(args.get("device", cfg.device));

  Predictor predictor(cfg.model, weights, cfg.data.height, cfg.data.width, device, cfg.data.normalize);
  const TaskSet& tasks = predictor.model().tasks();
  NyudDataset data(cfg.data.root, split, tasks.main_names());
  EvalSettings settings;
  settings.height = cfg.data.height;
  settings.width = cfg.data.width;
  settings.batch_size = cfg.batch_size;
  settings.threads = cfg.data.threads;
  settings.device = device;
  settings.normalize = cfg.data.normalize;
  std::printf("evaluating '%s' on %s (%zu images)\n", weights.c_str(), data.name().c_str(), data.size());
  nlohmann::json results = evaluate_model(predictor.model(), data, settings);
  std::printf("%s", metrics_table(results).c_str());
  if (args.has("per-class")) std::printf("%s", per_class_iou_table(results).c_str());

  nlohmann::json out = {{"config", cfg.source}, {"weights", weights}, {"split", split}, {"results", results}};
  std::vector<std::string> stl_specs = args.all("single-task-results");
  if (!stl_specs.empty()) {
    nlohmann::json stl = nlohmann::json::object(), mtl = nlohmann::json::object();
    for (const std::string& spec : stl_specs) {
      size_t eq = spec.find('=');
      MTINET_CHECK(eq != std::string::npos && eq > 0, "--single-task-results expects task=FILE, got '", spec, "'");
      std::string task = spec.substr(0, eq);
      MTINET_CHECK(tasks.is_main(task), "--single-task-results: '", task, "' is not a main task of this model");
      stl[task] = task_results_from_file(spec.substr(eq + 1), task);
    }
    std::string missing;
    for (const std::string& t : tasks.main_names()) {
      if (!stl.contains(t)) missing += (missing.empty() ? "" : ", ") + t;
      mtl[t] = results.at(t);
    }
    MTINET_CHECK(missing.empty(), "--single-task-results: the multi-task delta needs every main task; missing: ", missing);
    out["multitask_delta"] = multitask_delta(mtl, stl);
    std::printf("multi-task delta dm = %+.3f %%\n", out["multitask_delta"]["dm"].get<double>());
  }
  if (args.has("trivial")) {
    NyudDataset train(cfg.data.root, cfg.data.train_split, tasks.main_names());
    TrivialBaseline baseline = fit_trivial_baseline(train, tasks.main, cfg.data.threads);
    nlohmann::json trivial = evaluate_trivial_baseline(baseline, tasks, data, settings);
    nlohmann::json model_metrics = nlohmann::json::object();
    for (const std::string& t : tasks.main_names()) model_metrics[t] = results.at(t);
    TrivialComparison c = beats_trivial(model_metrics, trivial);
    std::printf("%s", c.table().c_str());
    out["trivial_comparison"] = c.to_json();
    out["trivial_comparison"]["fitted"] = baseline.fitted;
    out["trivial_results"] = trivial;
  }

  std::string out_path = args.get("out", "results.json");
  for (const std::string& p : write_eval_results(out_path, out, results)) std::printf("wrote %s\n", p.c_str());
  return 0;
}

}  // namespace mtinet
