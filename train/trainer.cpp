#include "train/trainer.h"

#include <chrono>
#include <cstdio>
#include <cmath>
#include <filesystem>

#include "core/autograd.h"
#include "core/compute_threads.h"
#include "core/fault_injection.h"
#include "core/finite_check.h"
#include "core/ops.h"
#include "core/strings.h"
#include "core/thread_governor.h"
#include "data/dataset_factory.h"
#include "eval/metrics.h"
#include "eval/precise_bn.h"
#include "eval/trivial_baseline.h"
#include "model/hrnet.h"
#include "model/load_model_weights.h"
#include "train/checkpoint.h"
#include "train/distributed.h"
#include "train/loss_readback.h"
#include "train/progress.h"
#include "train/resume.h"
#include "train/sharded_eval.h"
#include "train/task_losses.h"
#include "train/weights_file.h"
#include "train/weights_metadata.h"

namespace mtinet {

namespace fs = std::filesystem;

namespace {

// The balancer's config with the task set's reference weights filled in when a fixed method gives none.
nlohmann::json balancer_config(const nlohmann::json& loss, const TaskSet& tasks) {
  nlohmann::json j = loss;
  if (j.value("method", std::string("fixed")) == "fixed" && !j.contains("weights")) {
    nlohmann::json w = nlohmann::json::object();
    for (const TaskSpec& t : tasks.auxiliary) w[t.name] = t.loss_weight;
    j["weights"] = w;
  }
  return j;
}

// The last convolution of the backbone: the "last shared layer" GradNorm measures gradients at.
Tensor last_shared_weight(const Module& model) {
  Tensor w;
  for (const StateEntry& e : model.state_entries())
    if (!e.is_buffer && e.layout == ExportLayout::ConvWeight && e.name.rfind("backbone.", 0) == 0) w = e.tensor;
  return w;
}

LoaderConfig loader_config(const TrainConfig& c, bool train) {
  LoaderConfig l;
  l.batch_size = c.batch_size;
  l.shuffle = train && c.data.shuffle;
  l.drop_last = train;
  l.augment = train && c.data.augment;
  l.aug = augment_config(c.data);
  l.normalize = c.data.normalize;
  l.threads = c.data.threads;
  l.seed = c.seed;
  if (train) {  // each rank reads its slice of every global batch (data/loader.h)
    l.shards = dist::size();
    l.shard = dist::world().rank;
  }
  return l;
}

}  // namespace

Trainer::Trainer(TrainConfig cfg) : cfg_(std::move(cfg)) {
  device_ = parse_device(cfg_.device);
  dtype_ = cfg_.dtype == "f64" ? DType::F64 : DType::F32;
  // A host read of a loss stalls a GPU (see train/loss_readback.h); on the CPU it is free, and reading at once keeps
  // a NaN from ever reaching the weights.
  loss_readback_lag_ = device_ == Device::CUDA ? 1 : 0;
  MTINET_CHECK(!(dtype_ == DType::F64 && device_ == Device::CUDA), "f64 training runs on the CPU only");
  check_data_parallel_config();
  model_ = build_model(cfg_.model);
  if (!cfg_.backbone_weights.empty()) {
    SafetensorsContents file = load_weights(cfg_.backbone_weights);
    LoadReport r = load_hrnet_pretrained(model_->backbone(), file);
    std::printf("backbone weights '%s': %zu tensors loaded, %zu skipped (classification head), %zu counters kept\n",
                cfg_.backbone_weights.c_str(), r.loaded.size(), file.tensors.size() - r.loaded.size(),
                r.missing.size());
  }
  if (!cfg_.init_weights.empty()) {
    SafetensorsContents init = load_weights(cfg_.init_weights);
    load_model_weights(*model_, cfg_.model, init, describe_weights_origin(init));
  }
  model_->to(dtype_);
  model_->to(device_);
  const TaskSet& tasks = model_->tasks();
  balancer_ = make_balancer(balancer_config(cfg_.loss, tasks), tasks.auxiliary_names(), dtype_);
  balancer_->set_shared_weight(last_shared_weight(*model_));
  // The balancer's learnable tensors (uncertainty's log-variances) move in place, before packing: the ParameterSet
  // must pack the very tensors combine() reads. Packing copies made by Tensor::to would leave the optimiser
  // updating copies nobody reads while combine() used the CPU originals (and threw on a GPU).
  balancer_->to(device_);
  std::vector<Tensor> params = model_->parameters();
  for (const Tensor& p : balancer_->parameters()) params.push_back(p);
  params_ = std::make_unique<ParameterSet>(params);
  optimizer_ = std::make_unique<Optimizer>(*params_, cfg_.optimizer);
  if (dist::size() > 1 && cfg_.distributed.overlap)
    overlapped_sum_ = std::make_unique<OverlappedGradientSum>(*params_, cfg_.distributed.bucket_bytes());

  MTINET_CHECK(!cfg_.data.root.empty(), "config: 'data.root' is empty: point it at a dataset in the ",
               cfg_.data.dataset, " layout (e.g. one made by `mtinet synth --layout ", cfg_.data.dataset, "`)");
  std::vector<std::string> needed = tasks.label_names();
  train_set_ = open_dataset(cfg_.data.dataset, cfg_.data.root, cfg_.data.train_split, needed);
  val_set_ = open_dataset(cfg_.data.dataset, cfg_.data.root, cfg_.data.val_split, needed);
  train_loader_ = std::make_unique<Loader>(train_set_, loader_config(cfg_, true));

  if (!dist::is_root()) return;  // rank 0 alone owns the checkpoint folder and the logs
  fs::create_directories(cfg_.checkpoint.dir);
  remove_leftovers();
  log_ = std::make_unique<MetricsLog>(cfg_.checkpoint.dir, cfg_.log.tensorboard);
}

void Trainer::remove_leftovers() {
  // A kill mid-checkpoint leaves a '.tmp' file or weights without their state; neither is a checkpoint, and a lone
  // weights file would otherwise stay forever (pruning only counts complete pairs).
  std::vector<std::string> removed = remove_checkpoint_leftovers(cfg_.checkpoint.dir);
  if (removed.empty()) return;
  std::printf("removed %zu leftover(s) of interrupted writes from '%s': %s\n", removed.size(),
              cfg_.checkpoint.dir.c_str(), join(removed, ", ").c_str());
}

void Trainer::start_fresh() {
  if (!dist::is_root()) return;  // rank 0 checks the folder; the others take its state in run()
  std::vector<CheckpointPaths> existing = complete_checkpoints(cfg_.checkpoint.dir);
  MTINET_CHECK(existing.empty(), "checkpoint.dir '", cfg_.checkpoint.dir, "' already holds ", existing.size(),
               " checkpoint(s) of a run (the newest: '", existing.front().weights, "'): continue that run with "
               "--resume latest, or set another checkpoint.dir (a new run there would overwrite and prune them)");
  trim_log_to_resumed_step();  // a log without any checkpoint is from a run stopped in its first epoch
}

std::string Trainer::resume(const std::string& state_path) {
  if (!dist::is_root()) return "";  // rank 0 reads the checkpoint; run() broadcasts what it loaded
  if (state_path == "latest" && complete_checkpoints(cfg_.checkpoint.dir).empty()) {
    // A job that is restarted after a kill runs `--resume latest` every time, also when the kill came before the
    // first checkpoint: that is a start from step 0, not an error.
    std::printf("--resume latest: no checkpoint in '%s' yet: starting from step 0\n", cfg_.checkpoint.dir.c_str());
    start_fresh();
    return "";
  }
  LoadedCheckpoint c = state_path == "latest" ? read_latest_readable_checkpoint(cfg_.checkpoint.dir)
                                              : read_checkpoint(state_path);
  check_resumable_config(cfg_, c.state, c.state_path);
  load_model_weights(*model_, cfg_.model, c.weights, describe_weights_origin(c.weights));
  optimizer_->load_state(c.state.tensors);
  balancer_->load_state(c.state.tensors);
  step_ = c.state.step;
  resumed_from_ = c.state_path;
  start_at_ = c.state.loader;
  std::printf("resumed from '%s': step %lld, epoch %lld, batch %lld\n", c.state_path.c_str(),
              static_cast<long long>(step_), static_cast<long long>(start_at_.epoch),
              static_cast<long long>(start_at_.next_batch));
  trim_log_to_resumed_step();
  return c.state_path;
}

void Trainer::trim_log_to_resumed_step() {
  if (!log_) return;
  // The records after the checkpoint came from a run that died (or was stopped) past it; the resumed run writes those
  // steps again, and a log with repeated steps plots and averages wrongly (older TensorBoard event files likewise).
  int64_t dropped = log_->drop_records_after(step_, start_at_.epoch);
  if (dropped > 0)
    std::printf("metrics.jsonl: dropped %lld record(s) written after step %lld, which the resumed run writes again\n",
                static_cast<long long>(dropped), static_cast<long long>(step_));
}

std::map<std::string, Tensor> Trainer::batch_to_device(const Batch& b) const {
  std::map<std::string, Tensor> out;
  for (const auto& [name, t] : b.tensors) {
    Tensor x = is_floating(t.dtype()) ? t.to(dtype_) : t;
    out[name] = x.to(device_);
  }
  return out;
}

void Trainer::log_json(const nlohmann::json& j) {
  if (!log_) return;  // ranks other than 0
  log_->write(j, step_);  // an epoch's evaluation has no "step": its TensorBoard points go at the current one
}

std::string Trainer::save_checkpoint(const std::string& last_good) {
  CheckpointPaths p = checkpoint_paths(cfg_.checkpoint.dir, step_);
  std::vector<std::pair<std::string, Tensor>> weights = model_->state_dict();
  TrainingState s;
  s.step = step_;
  s.loader = train_loader_->state();
  s.tensors = optimizer_->state();
  for (auto& e : balancer_->state()) s.tensors.push_back(e);
  // Checked before either file is written: a finite loss does not prove finite weights (an overflowing update,
  // lr 1e300 or beta2 1), and a NaN checkpoint would be what --resume, predict and pruning trust as the newest.
  for (const auto* group : {&weights, &s.tensors}) {
    if (std::optional<NonFiniteTensor> bad = find_non_finite(*group)) {
      MTINET_FAIL("at step ", step_, " the ", group == &weights ? "model's tensor " : "optimiser's state tensor ",
                  bad->describe(), ": training stopped without writing '", p.weights, "'; last good checkpoint: ",
                  last_good, " (lower the learning rate or clip gradients: clip_grad_norm)");
    }
  }
  save_safetensors(p.weights, weights, weights_metadata(cfg_, model_->tasks()));
  fault_point("checkpoint.between_files");
  try {
    write_training_state(p.state, s, cfg_.source.dump());
  } catch (const Error&) {
    // A full disk or a lost permission: leave the folder as it was, the previous checkpoint the newest.
    std::error_code ignored;
    fs::remove(p.weights, ignored);
    throw;
  }
  prune_checkpoints(cfg_.checkpoint.dir, cfg_.checkpoint.keep_last);
  return p.weights;
}

TrainSummary Trainer::run() {
  TrainSummary summary;
  int64_t per_epoch = train_loader_->batches_per_epoch();
  int64_t total = cfg_.epochs * per_epoch;  // the schedule's length; max_steps only stops early
  int64_t stop_at = cfg_.max_steps > 0 ? std::min(total, cfg_.max_steps) : total;
  Progress progress(stop_at);
  LossReadback readback(loss_readback_lag_);
  readback.set_reducer([this](std::vector<double>& v) { average_losses(v); });
  sync_replicas();
  model_->train();
  train_loader_->start(start_at_);
  ThreadGovernor governor(compute_threads(), device_ == Device::CPU);  // fewer threads while the cores are busy
  std::string last_checkpoint = resumed_from_.empty() ? "none yet" : resumed_from_;
  int64_t checkpointed_at = -1;
  // Collects the losses that are due (all of them with `all`: before a checkpoint, an evaluation or the end, so that
  // no weights a NaN step wrecked are saved), stops on a non-finite one, and logs the steps now complete.
  auto collect = [&](bool all) {
    for (const StepRecord& r : readback.read(all)) {
      if (std::isfinite(r.loss)) continue;
      std::string culprit = "the combined loss";
      for (const auto& [name, v] : r.task_losses)
        if (!std::isfinite(v)) { culprit = "task '" + name + "'"; break; }
      progress.finish();
      if (r.step > step_) {
        MTINET_FAIL("the loss of ", culprit, " is ", r.loss, " at step ", r.step, " (epoch ", r.epoch,
                    "): training stopped before updating the weights; last good checkpoint: ", last_checkpoint);
      }
      MTINET_FAIL("the loss of ", culprit, " is ", r.loss, " at step ", r.step, " (epoch ", r.epoch,
                  "), read back at step ", step_, ": training stopped without saving the weights updated since; "
                  "last good checkpoint: ", last_checkpoint);
    }
    for (const StepRecord& r : readback.take_finished()) {
      summary.losses.push_back(r.loss);
      log_json({{"step", r.step}, {"epoch", r.epoch}, {"lr", r.lr}, {"loss", r.loss}, {"tasks", r.task_losses},
                {"weights", r.weights}, {"images_per_s", r.images_per_s}});
      progress.step(r.step, r.epoch, r.loss, r.task_losses, r.lr, r.images_per_s);
    }
  };
  for (;;) {
    LoaderState at = train_loader_->state();
    int64_t epoch = at.epoch;
    if (epoch >= cfg_.epochs) break;
    if (step_ >= stop_at && at.next_batch < per_epoch) break;  // max_steps reached inside an epoch
    double lr = scheduled_lr(cfg_.schedule, cfg_.optimizer.lr, epoch, cfg_.epochs, step_, total);
    Batch batch;
    auto t0 = std::chrono::steady_clock::now();
    if (!train_loader_->next(batch)) {  // epoch finished: evaluate and checkpoint
      collect(true);
      int64_t done = epoch + 1;
      bool last = done == cfg_.epochs;
      if ((cfg_.eval_every > 0 && done % cfg_.eval_every == 0) || last) {  // every rank: a share of the split
        summary.last_eval = evaluate();
        model_->train();
        log_json({{"epoch", done}, {"eval", summary.last_eval}});
        progress.message("epoch " + std::to_string(done) + " eval: " + scalar_metrics(summary.last_eval).dump());
      }
      if (done % cfg_.checkpoint.every_epochs == 0 || last) {
        check_replicas_agree();
        sync_buffers();
        if (dist::is_root()) last_checkpoint = save_checkpoint(last_checkpoint);
        checkpointed_at = step_;
      }
      continue;
    }
    governor.step_started();
    StepLosses losses = forward_backward(batch_to_device(batch), epoch);
    StepRecord record;
    record.step = step_ + 1;
    record.epoch = epoch;
    record.lr = lr;
    record.weights = balancer_->weights();
    readback.begin(std::move(record), losses.total, losses.per_task);
    collect(false);  // lag 0: this step's losses, before its update; else an earlier step's, long computed
    average_gradients();
    if (cfg_.clip_grad_norm > 0) clip_grad_norm(*params_, cfg_.clip_grad_norm);
    optimizer_->step(lr);
    governor.step_finished();
    ++step_;
    fault_point("train.after_update");
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    readback.end(double(batch.ids.size()) * dist::size() / std::max(secs, 1e-9));  // all ranks' images
    collect(false);
  }
  collect(true);
  progress.finish();
  if (step_ < total && checkpointed_at != step_) {
    // Stopped early (max_steps): checkpoint the exact position so --resume continues mid-epoch, and evaluate.
    check_replicas_agree();
    sync_buffers();
    if (dist::is_root()) save_checkpoint(last_checkpoint);
    summary.last_eval = evaluate();
    log_json({{"step", step_}, {"eval", summary.last_eval}});
  }
  if (!summary.last_eval.empty()) summary.trivial = report_against_trivial(summary.last_eval);
  summary.steps = step_;
  if (log_) summary.log_records_lost = log_->finish();
  return summary;
}

void Trainer::set_loss_readback_lag(int64_t steps) {
  MTINET_CHECK(steps >= 0, "the loss readback lag must be >= 0 steps, got ", steps);
  loss_readback_lag_ = steps;
}

EvalSettings Trainer::eval_settings() const {
  EvalSettings e;
  e.height = cfg_.data.height;
  e.width = cfg_.data.width;
  e.batch_size = cfg_.batch_size;
  e.threads = cfg_.data.threads;
  e.normalize = cfg_.data.normalize;
  e.device = device_;
  e.dtype = dtype_;
  shard_over_ranks(e);  // every rank evaluates its share; the metrics are summed over the ranks
  return e;
}

nlohmann::json Trainer::evaluate() {
  // Every rank evaluates rank 0's model (the one checkpoints save): its BatchNorm statistics, then, with precise BN,
  // the same re-estimate from the same images on each rank.
  sync_buffers();
  if (cfg_.precise_bn_batches > 0) {
    // Un-augmented training images, in order, so the re-estimate is the same for a given model.
    Loader loader(train_set_, loader_config(cfg_, false));
    loader.start({0, 0});
    Batch batch;
    int64_t used = recompute_bn_statistics(
        *model_, cfg_.precise_bn_batches,
        [&] { return loader.next(batch) ? batch_to_device(batch).at("image") : Tensor(); },
        [&](const Tensor& images) { model_->forward(images); });
    log_json({{"step", step_}, {"precise_bn_batches", used}});
  }
  return evaluate_model(*model_, *val_set_, eval_settings());
}

const nlohmann::json& Trainer::trivial_results() {
  if (trivial_results_.is_null()) {
    TrivialBaseline baseline = fit_trivial_baseline(*train_set_, model_->tasks().main, cfg_.data.threads);
    trivial_results_ = evaluate_trivial_baseline(baseline, model_->tasks(), *val_set_, eval_settings());
  }
  return trivial_results_;
}

nlohmann::json Trainer::report_against_trivial(const nlohmann::json& results) {
  nlohmann::json model_metrics = nlohmann::json::object();
  for (const std::string& t : model_->tasks().main_names()) model_metrics[t] = results.at(t);
  TrivialComparison c = beats_trivial(model_metrics, trivial_results());
  std::printf("final evaluation against the trivial baseline (constant predictors fitted on '%s'):\n%s",
              cfg_.data.train_split.c_str(), c.table().c_str());
  nlohmann::json j = c.to_json();
  log_json({{"step", step_}, {"trivial_comparison", j}});
  return j;
}

}  // namespace mtinet
