#include "eval/evaluate.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "core/autograd.h"
#include "core/ops.h"
#include "data/loader.h"
#include "data/pascal_parts.h"
#include "data/transforms.h"
#include "train/task_losses.h"

namespace mtinet {

namespace {

// One sample ready for the network: its normalised image at the input size, its labels as metric inputs.
struct PreparedSample {
  Tensor image;                          // {1, h, w, 3} f32
  std::map<std::string, Tensor> labels;  // {1, H, W} i64 (segmentation) or {1, H, W, C} f32, original size
};

bool is_segmentation(const std::string& task) { return task == "semseg" || task == "human_parts"; }

// A label map {H, W, C} f32 as the metrics and losses take it.
Tensor label_tensor(const std::string& task, const Tensor& map) {
  int64_t h = map.dim(0), w = map.dim(1);
  if (!is_segmentation(task)) return map.clone().reshape_view({1, h, w, map.dim(2)});
  Tensor t = Tensor::empty({1, h, w}, DType::I64);
  const float* src = map.data<float>();
  int64_t* dst = t.data<int64_t>();
  for (int64_t k = 0; k < h * w; ++k) dst[k] = int64_t(src[k]);
  return t;
}

PreparedSample prepare_sample(const Dataset& dataset, size_t index, const std::vector<std::string>& tasks,
                              const EvalSettings& s) {
  Sample sample = dataset.load(index);
  // Images without people are all-ignore for human parts, as in training (the reference's AddIgnoreRegions): their
  // evaluation loss then counts no pixels, and the metric skips them (as it skips all-background maps).
  ignore_samples_without_parts(sample);
  PreparedSample p;
  auto img = sample.fields.find("image");
  MTINET_CHECK(img != sample.fields.end(), "evaluation: sample '", sample.id, "' of ", dataset.name(), " has no image");
  p.image = prepare_image(img->second.map, s.height, s.width, s.normalize);
  for (const std::string& t : tasks) {
    auto f = sample.fields.find(t);
    MTINET_CHECK(f != sample.fields.end(), "evaluation: sample '", sample.id, "' of ", dataset.name(),
                 " has no '", t, "' label");
    p.labels[t] = label_tensor(t, f->second.map);
  }
  return p;
}

// Samples [begin, end) prepared on up to `threads` threads; the first failure is rethrown.
std::vector<PreparedSample> prepare_batch(const Dataset& dataset, size_t begin, size_t end,
                                          const std::vector<std::string>& tasks, const EvalSettings& s) {
  size_t n = end - begin;
  std::vector<PreparedSample> out(n);
  std::vector<std::exception_ptr> errors(n);
  size_t workers = std::max<size_t>(1, std::min<size_t>(n, size_t(std::max(1, s.threads))));
  std::vector<std::thread> pool;
  for (size_t w = 0; w < workers; ++w) {
    pool.emplace_back([&, w] {
      for (size_t i = w; i < n; i += workers) {
        try {
          out[i] = prepare_sample(dataset, begin + i, tasks, s);
        } catch (...) {
          errors[i] = std::current_exception();
        }
      }
    });
  }
  for (std::thread& t : pool) t.join();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
  return out;
}

// Stacks {1, h, w, 3} images into {N, h, w, 3}.
Tensor stack_images(const std::vector<PreparedSample>& batch) {
  const Shape& s0 = batch.front().image.shape();
  Tensor out = Tensor::empty({int64_t(batch.size()), s0[1], s0[2], s0[3]}, DType::F32);
  int64_t per = batch.front().image.numel();
  for (size_t i = 0; i < batch.size(); ++i)
    std::memcpy(out.data<float>() + int64_t(i) * per, batch[i].image.data<float>(), size_t(per) * sizeof(float));
  return out;
}

}  // namespace

Tensor prepare_image(const Tensor& rgb, int64_t h, int64_t w, bool normalize) {
  MTINET_CHECK(rgb.ndim() == 3 && rgb.dim(2) == 3, "prepare_image: expected an {H, W, 3} RGB image, got ",
               rgb.describe());
  MTINET_CHECK(h > 0 && w > 0, "prepare_image: bad input size ", h, "x", w);
  Sample s;
  s.id = "image";
  Tensor map = rgb.to(Device::CPU).to(DType::F32);
  if (map.dim(0) != h || map.dim(1) != w) map = resize_map(map, h, w, Interp::Cubic);
  s.fields["image"] = {map, Interp::Cubic};
  std::vector<Sample> one{std::move(s)};
  return collate(one, normalize).tensors.at("image");
}

MetricOptions metric_options_for_tasks(const TaskSet& tasks) {
  MetricOptions options = metric_options_for(tasks.name == "pascal" ? "pascal" : "nyud");
  for (const TaskSpec& t : tasks.main) {
    if (t.name == "semseg") options.semseg_classes = t.channels;
    if (t.name == "human_parts") options.human_parts_classes = t.channels;
  }
  return options;
}

nlohmann::json evaluate_predictor(const BatchPredictor& predict, const std::vector<std::string>& tasks,
                                  const MetricOptions& options, const Dataset& dataset, const EvalSettings& settings,
                                  const TaskSet* loss_tasks) {
  MTINET_CHECK(settings.batch_size > 0, "evaluation: batch size must be positive, got ", settings.batch_size);
  MTINET_CHECK(dataset.size() > 0, "evaluation: ", dataset.name(), " is empty");
  MTINET_CHECK(settings.shards >= 1 && settings.shard >= 0 && settings.shard < settings.shards, "evaluation: shard ",
               settings.shard, " of ", settings.shards, " does not exist");
  MTINET_CHECK(settings.shards == 1 || settings.reduce, "evaluation: ", settings.shards, " shards need a reduce");
  NoGradGuard no_grad;
  MetricSet metrics(tasks, options);
  std::map<std::string, double> loss_sum;
  size_t total = dataset.size(), step = size_t(settings.batch_size);
  // This shard's samples: whole batches of the unsharded run, split as evenly as they go (a shard may get none).
  size_t batches = (total + step - 1) / step, shards = size_t(settings.shards), shard = size_t(settings.shard);
  size_t first = std::min(total, shard * batches / shards * step);
  size_t last = std::min(total, (shard + 1) * batches / shards * step);
  auto load = [&](size_t begin) {
    return std::async(std::launch::async, prepare_batch, std::cref(dataset), begin, std::min(last, begin + step),
                      std::cref(tasks), std::cref(settings));
  };
  std::future<std::vector<PreparedSample>> next;
  if (first < last) next = load(first);
  for (size_t begin = first; begin < last; begin += step) {
    std::vector<PreparedSample> batch = next.get();
    if (begin + step < last) next = load(begin + step);  // the next batch loads while this one runs
    int64_t n = int64_t(batch.size());
    Tensor images = stack_images(batch).to(settings.dtype).to(settings.device);
    std::map<std::string, Tensor> preds = predict(images);
    for (int64_t i = 0; i < n; ++i) {
      std::map<std::string, Tensor> p_cpu;
      for (const std::string& t : tasks) {
        auto it = preds.find(t);
        MTINET_CHECK(it != preds.end(), "evaluation: the predictor gave no '", t, "' output");
        MTINET_CHECK(it->second.ndim() == 4 && it->second.dim(0) == n, "evaluation: the '", t,
                     "' prediction should be {", n, ", H, W, C}, got ", it->second.describe());
        const Tensor& label = batch[size_t(i)].labels.at(t);
        Tensor p = it->second.slice_batch(i, i + 1);
        if (p.dim(1) != label.dim(1) || p.dim(2) != label.dim(2)) p = ops::resize_bilinear(p, label.dim(1), label.dim(2));
        if (loss_tasks) {
          Tensor y = is_floating(label.dtype()) ? label.to(settings.dtype) : label;
          loss_sum[t] += task_loss(loss_tasks->spec(t), p, y.to(settings.device)).item();
        }
        p_cpu[t] = p.to(Device::CPU).to(DType::F32);
      }
      metrics.update(p_cpu, batch[size_t(i)].labels);
    }
  }
  if (settings.shards > 1) {
    // The loss sums ride along after the metrics' own, one per task in the tasks' order (0 on an empty shard).
    MetricState state = metrics.state();
    size_t own_sums = state.sums.size();
    if (loss_tasks)
      for (const std::string& t : tasks) state.sums.push_back(loss_sum[t]);
    settings.reduce(state);
    if (loss_tasks)
      for (size_t i = 0; i < tasks.size(); ++i) loss_sum[tasks[i]] = state.sums[own_sums + i];
    state.sums.resize(own_sums);
    metrics.load_state(state);
  }
  nlohmann::json j = metrics.results();
  for (const auto& [name, s] : loss_sum) j[name]["loss"] = s / double(total);
  return j;
}

nlohmann::json evaluate_model(MultiTaskNetwork& model, const Dataset& dataset, const EvalSettings& settings) {
  NoGradGuard no_grad;
  model.eval();
  const TaskSet& tasks = model.tasks();
  BatchPredictor predict = [&model](const Tensor& images) { return model.forward(images).tasks; };
  return evaluate_predictor(predict, tasks.main_names(), metric_options_for_tasks(tasks), dataset, settings, &tasks);
}

std::vector<std::string> write_eval_results(const std::string& out_path, const nlohmann::json& combined,
                                            const nlohmann::json& results) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(out_path).parent_path();
  if (!dir.empty()) fs::create_directories(dir);
  auto write = [](const std::string& path, const nlohmann::json& j) {
    std::ofstream f(path);
    MTINET_CHECK(f.good(), "cannot write '", path, "'");
    f << j.dump(2) << "\n";
    MTINET_CHECK(f.good(), "failed writing '", path, "'");
  };
  std::vector<std::string> written{out_path};
  write(out_path, combined);
  for (const auto& item : results.items()) {
    std::string p = (dir / (item.key() + ".json")).string();
    write(p, item.value());
    written.push_back(p);
  }
  return written;
}

nlohmann::json scalar_metrics(const nlohmann::json& results) {
  nlohmann::json brief = nlohmann::json::object();
  for (auto& [task, metrics] : results.items())
    for (auto& [name, value] : metrics.items())
      if (value.is_number()) brief[task][name] = value;
  return brief;
}

}  // namespace mtinet
