// The training configuration: one JSON file per experiment (configs/*.json), every key validated, with
// command-line overrides `--set section.key=value`. Every key, its range and what it does: docs/training.md.
#pragma once
#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/transforms.h"
#include "model/factory.h"
#include "train/optimizer.h"

namespace mtinet {

// The defaults are NYUD's; a config with "dataset": "pascal" starts from the PASCAL recipe instead (512x512, scale
// uniform in 0.75..1.25, rotation uniform in +-20 degrees: data_defaults below), and its own keys override those.
struct DataConfig {
  std::string dataset = "nyud";  // a layout of data/dataset_factory.h: "nyud" (also `mtinet synth`) or "pascal"
  std::string root;
  std::string train_split = "train", val_split = "val";
  int64_t height = 480, width = 640;
  bool augment = true;
  bool shuffle = true;
  bool flip = true;
  bool normalize = true;  // /255 then ImageNet mean/std, as the reference
  // Each sample's zoom and rotation (degrees) are drawn from the list, or uniformly from the {lo, hi} range when one
  // is set (the reference draws NYUD's from a list, PASCAL's from ranges). A config sets a list or a range, not both.
  std::vector<double> scales = {1.0, 1.2, 1.5};
  std::vector<double> scale_range;
  std::vector<double> rotations = {0.0};
  std::vector<double> rotation_range;
  int threads = 2;
};

// The data settings a config starts from for a dataset layout ("nyud" or "pascal"); throws for another name.
DataConfig data_defaults(const std::string& dataset);
// The training augmentation the data settings describe (flip, scale and rotation draws, output size).
AugmentConfig augment_config(const DataConfig& d);

struct CheckpointConfig {
  std::string dir = "runs/mtinet";
  int64_t every_epochs = 1;
  int keep_last = 3;
};

struct LogConfig {
  bool tensorboard = true;  // TensorBoard event file beside metrics.jsonl (train/metrics_log.h)
};

// How data-parallel ranks combine their gradients (train/overlapped_gradient_sum.h).
struct DistributedConfig {
  bool overlap = true;     // all-reduce each gradient bucket during backward; false: the whole buffer after it
  double bucket_mib = 25;  // bucket size (and the blocking path's message size), MiB
  int64_t bucket_bytes() const { return std::max<int64_t>(1, int64_t(bucket_mib * 1024 * 1024)); }
};

struct TrainConfig {
  ModelConfig model;
  DataConfig data;
  OptimizerConfig optimizer;
  ScheduleConfig schedule;
  nlohmann::json loss = {{"method", "fixed"}};  // handed to the loss-balancing factory
  CheckpointConfig checkpoint;
  LogConfig log;
  DistributedConfig distributed;
  int64_t epochs = 100;
  // The global batch of one optimiser step, whatever the number of processes: with N ranks (mpirun -np N) and
  // grad_accumulation A, each forward/backward pass sees batch_size / (N * A) images, and the step averages the
  // gradients of all N * A micro-batches (BatchNorm normalises each micro-batch on its own).
  int64_t batch_size = 8;
  int64_t grad_accumulation = 1;  // micro-batches per step on each rank
  bool sync_bn = false;  // BatchNorm statistics over all ranks' micro-batches together (see ops::set_batch_norm_sync)
  int64_t eval_every = 10;      // epochs; 0 = only at the end
  int64_t precise_bn_batches = 0;  // before each evaluation, re-estimate BN statistics on this many train batches
  int64_t max_steps = 0;        // stop after this many steps (0 = no limit), for smoke runs
  double clip_grad_norm = 0;    // 0 = off
  int64_t threads = 0;          // CPU compute threads; 0 = every core the process may use (core/compute_threads.h)
  uint64_t seed = 0;
  std::string device = "auto";  // auto | cpu | cuda
  std::string dtype = "f32";    // f32 | f64 (CPU only)
  std::string init_weights;     // safetensors with the full model's state_dict (strict)
  std::string backbone_weights; // HRNet ImageNet classification weights (non-strict, head keys ignored)
  // Single-task results for the multi-task delta (eval/single_task_results.h): {task: results file or metrics}.
  nlohmann::json single_task_results = nlohmann::json::object();
  nlohmann::json source;        // the validated JSON the config came from (saved with checkpoints)
};

// Parses and validates: an unknown key, a value of the wrong type or one outside its key's range (see
// train/config_checks.h) throws naming "section.key", the value and what is allowed. `file`, when given, is the
// file the JSON came from, named in the messages ("config FILE: ...").
TrainConfig parse_train_config(const nlohmann::json& j, const std::string& file = "");
// Reads the file (see read_json_file for its errors), applies the overrides, then parses it.
TrainConfig load_train_config(const std::string& path, const std::vector<std::string>& overrides = {});
// Applies "a.b.c=value" to j (value parsed as JSON when it is valid JSON, else taken as a string).
void apply_override(nlohmann::json& j, const std::string& assignment);

}  // namespace mtinet
