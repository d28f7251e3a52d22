// Evaluation on a dataset split, shared by the trainer's periodic evaluation and `mtinet eval`.
//
// As the reference evaluates: each image is resized (cubic) to the network's input size and normalised, the
// predictions are resized back (bilinear, align_corners=False) to the resolution of that sample's labels -- the
// original image size -- and the metrics pool over the split. Labels are never resampled.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/device.h"
#include "core/dtype.h"
#include "core/tensor.h"
#include "data/dataset.h"
#include "eval/metrics.h"
#include "model/network.h"

namespace mtinet {

struct EvalSettings {
  int64_t height = 480, width = 640;  // the network's input size
  int64_t batch_size = 8;
  int threads = 2;                    // samples loaded in parallel (the next batch loads while one runs)
  bool normalize = true;              // /255 then ImageNet mean/std (data.normalize)
  Device device = Device::CPU;
  DType dtype = DType::F32;
  // Sharded evaluation over `shards` processes: this one evaluates the shard-th of as many contiguous runs of whole
  // batches (each batch is the one a single process runs, so its predictions are too), then `reduce` sums every
  // process's accumulators in place (the metrics' MetricState, then the loss sums), and each returns the results of
  // the whole split. One shard (the default) needs no reduce.
  int shard = 0, shards = 1;
  std::function<void(MetricState&)> reduce;
};

// Raw per-task predictions, NHWC, for a batch of normalised images {N, height, width, 3} on the settings' device.
// A prediction may have any spatial size (it is resized to each label's size).
using BatchPredictor = std::function<std::map<std::string, Tensor>(const Tensor& images)>;

// The metric settings of a model's task set (NYUD or PASCAL-Context values, its semseg class count).
MetricOptions metric_options_for_tasks(const TaskSet& tasks);

// Runs `predict` over every sample of `dataset` (in order) and returns the MetricSet results of `tasks`
// ({task: results()}). With loss_tasks, each task's final-prediction loss at label resolution is added as
// {task: {"loss": mean over samples}}.
nlohmann::json evaluate_predictor(const BatchPredictor& predict, const std::vector<std::string>& tasks,
                                  const MetricOptions& options, const Dataset& dataset, const EvalSettings& settings,
                                  const TaskSet* loss_tasks = nullptr);

// A model's main tasks in eval mode without gradients (the model is left in eval mode), with their losses.
nlohmann::json evaluate_model(MultiTaskNetwork& model, const Dataset& dataset, const EvalSettings& settings);

// The scalar metrics of results ({task: metrics}), without per-class arrays: for terminal output.
nlohmann::json scalar_metrics(const nlohmann::json& results);

// Writes the evaluation's files: `combined` (everything, e.g. {"config", "weights", "split", "results", ...}) to
// out_path, and each task's metrics of `results` ({task: metrics}) alone to <directory of out_path>/<task>.json, as
// the reference writes one file per task. Returns the paths written, out_path first.
std::vector<std::string> write_eval_results(const std::string& out_path, const nlohmann::json& combined,
                                            const nlohmann::json& results);

// Resizes (cubic, if needed) an {H, W, 3} RGB image (u8 or f32, 0..255) to h x w and normalises it as the
// reference does (/255, ImageNet mean and std; off: kept 0..255 as the loader's normalize = false): {1, h, w, 3} f32
// on the CPU.
Tensor prepare_image(const Tensor& rgb, int64_t h, int64_t w, bool normalize = true);

}  // namespace mtinet
