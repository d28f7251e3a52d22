#include "eval/predictor.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/autograd.h"
#include "core/layout.h"
#include "core/ops.h"
#include "core/safetensors.h"
#include "data/colormap.h"
#include "data/image.h"
#include "eval/evaluate.h"
#include "model/load_model_weights.h"
#include "train/weights_file.h"
#include "train/weights_metadata.h"

namespace mtinet {

namespace fs = std::filesystem;

Predictor::Predictor(const ModelConfig& config, const std::string& weights, int64_t input_h, int64_t input_w,
                     Device device, bool normalize)
    : config_(config), input_h_(input_h), input_w_(input_w), device_(device), normalize_(normalize) {
  MTINET_CHECK(input_h > 0 && input_w > 0 && input_h % 32 == 0 && input_w % 32 == 0, "predict: the input size ",
               input_h, "x", input_w, " (data.size) must be divisible by 32 (MTI-Net upsamples by 2 four times)");
  model_ = build_model(config_);
  SafetensorsContents file = load_weights(weights);  // safetensors or .pth; names the file when missing or malformed
  load_model_weights(*model_, config_, file, describe_weights_origin(file));
  model_->to(device_);
  model_->eval();
}

Prediction Predictor::predict(const Tensor& image) {
  NoGradGuard no_grad;
  model_->eval();
  Prediction p;
  p.image_h = image.dim(0);
  p.image_w = image.dim(1);
  p.input_h = input_h_;
  p.input_w = input_w_;
  Tensor x = prepare_image(image, input_h_, input_w_, normalize_).to(device_);
  ModelOutput out = model_->forward(x);
  for (const auto& [task, y] : out.tasks) {
    Tensor r = (y.dim(1) == p.image_h && y.dim(2) == p.image_w) ? y : ops::resize_bilinear(y, p.image_h, p.image_w);
    p.final[task] = r.to(Device::CPU).to(DType::F32);
  }
  for (const auto& scale : out.deep_supervision) {
    std::map<std::string, Tensor> s;
    for (const auto& [task, y] : scale) s[task] = y.to(Device::CPU).to(DType::F32);
    p.initial.push_back(std::move(s));
  }
  return p;
}

Prediction Predictor::predict_file(const std::string& image_path) {
  MTINET_CHECK(fs::exists(image_path), "predict: the input image '", image_path, "' does not exist");
  return predict(load_image(image_path, 3));  // load_image names the file when it cannot decode it
}

Tensor visualize_prediction(const std::string& task, const Tensor& prediction) {
  MTINET_CHECK(prediction.ndim() == 4 ? prediction.dim(0) == 1 : prediction.ndim() == 3,
               "visualize: expected a {1, H, W, K} or {H, W, K} '", task, "' prediction, got ", prediction.describe());
  Tensor p = prediction.to(Device::CPU).to(DType::F32);
  int64_t h = p.dim(p.ndim() - 3), w = p.dim(p.ndim() - 2), k = p.dim(p.ndim() - 1);
  p = p.reshape_view({1, h, w, k});
  if (task == "semseg" || task == "human_parts") {
    return colorize_labels(ops::argmax_channels(p).reshape_view({h, w}));
  }
  if (task == "depth") return colorize_depth(p.reshape_view({h, w}));
  if (task == "normals") {
    MTINET_CHECK(k == 3, "visualize: normals need 3 channels, got ", p.describe());
    Tensor n = Tensor::empty({h, w, 3}, DType::F32);
    const float* src = p.data<float>();
    float* dst = n.data<float>();
    for (int64_t i = 0; i < h * w; ++i) {
      const float* v = src + 3 * i;
      double len = std::max(std::sqrt(double(v[0]) * v[0] + double(v[1]) * v[1] + double(v[2]) * v[2]), 1e-12);
      for (int c = 0; c < 3; ++c) dst[3 * i + c] = float(v[c] / len);
    }
    return colorize_normals(n);
  }
  if (task == "edge" || task == "sal") {
    Tensor prob = Tensor::empty({h, w}, DType::F32);
    const float* src = p.data<float>();
    for (int64_t i = 0; i < h * w; ++i) prob.data<float>()[i] = float(1.0 / (1.0 + std::exp(-double(src[i * k]))));
    return grey_map(prob);
  }
  MTINET_FAIL("visualize: unknown task '", task, "'");
}

std::vector<std::string> write_prediction_pngs(const Prediction& p, const std::string& dir, const std::string& stem) {
  std::string out_dir = dir.empty() ? "." : dir;
  fs::create_directories(out_dir);
  std::vector<std::string> written;
  for (const auto& [task, y] : p.final) {
    std::string path = (fs::path(out_dir) / (stem + "_" + task + ".png")).string();
    save_png(path, visualize_prediction(task, y));
    written.push_back(path);
  }
  return written;
}

void write_prediction_raw(const Prediction& p, const std::string& path, const std::string& config_json,
                          const std::string& input_file) {
  std::vector<std::pair<std::string, Tensor>> tensors;
  std::string tasks;
  for (const auto& [task, y] : p.final) {
    tensors.emplace_back(task, nhwc_to_nchw(y));
    tasks += (tasks.empty() ? "" : ",") + task;
  }
  for (size_t s = 0; s < p.initial.size(); ++s)
    for (const auto& [task, y] : p.initial[s])
      tensors.emplace_back("initial.scale_" + std::to_string(s) + "." + task, nhwc_to_nchw(y));
  std::map<std::string, std::string> meta = {
      {"config", config_json},
      {"input", input_file},
      {"image_size", std::to_string(p.image_h) + "x" + std::to_string(p.image_w)},
      {"input_size", std::to_string(p.input_h) + "x" + std::to_string(p.input_w)},
      {"layout", "NCHW"},
      {"tasks", tasks},
  };
  fs::path parent = fs::path(path).parent_path();
  if (!parent.empty()) fs::create_directories(parent);
  save_safetensors(path, tensors, meta);
}

}  // namespace mtinet
