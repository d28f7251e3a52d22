// Inference on single images with trained weights: what `mtinet predict` runs.
//
// The image is resized (cubic) to the config's input size and normalised as the reference does; the model runs in
// eval mode without gradients; every final output is resized (bilinear, align_corners=False) back to the image's
// own size. Results can be written as PNG visualisations (one per main task) and as a raw safetensors file of
// float32 NCHW tensors:
//   "<task>"                    final output at the input image's resolution, {1, K, H, W}
//   "initial.scale_<s>.<task>"  deep-supervision prediction at scale s (stride 4 * 2^s), {1, K, h_s, w_s}
// with metadata "config" (the config JSON), "input" (the image file), "image_size" ("HxW"), "input_size"
// (the network's "hxw"), "layout" ("NCHW") and "tasks" (comma-separated main tasks).
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/tensor.h"
#include "model/factory.h"
#include "model/network.h"

namespace mtinet {

struct Prediction {
  int64_t image_h = 0, image_w = 0;  // the input image's size
  int64_t input_h = 0, input_w = 0;  // the network's input size
  std::map<std::string, Tensor> final;                 // task -> {1, image_h, image_w, K} f32 CPU, raw
  std::vector<std::map<std::string, Tensor>> initial;  // [scale] task -> {1, h_s, w_s, K} f32 CPU, raw
};

class Predictor {
 public:
  // Builds the model and loads `weights` strictly (reference names); input_h and input_w must be divisible by 32.
  // normalize: the input normalisation the weights were trained with (data.normalize).
  Predictor(const ModelConfig& config, const std::string& weights, int64_t input_h, int64_t input_w,
            Device device = Device::CPU, bool normalize = true);
  // image: {H, W, 3} RGB, u8 or float 0..255.
  Prediction predict(const Tensor& image);
  Prediction predict_file(const std::string& image_path);  // jpg / png; errors name the file

  MultiTaskNetwork& model() { return *model_; }
  const ModelConfig& config() const { return config_; }

 private:
  ModelConfig config_;
  int64_t input_h_, input_w_;
  Device device_;
  bool normalize_;
  std::shared_ptr<MultiTaskNetwork> model_;
};

// The PNG visualisation of a raw {1, H, W, K} (or {H, W, K}) prediction of `task`: semseg / human_parts argmax
// coloured with the VOC palette, depth with the depth ramp, normals normalised per pixel, edge / sal sigmoid grey.
Tensor visualize_prediction(const std::string& task, const Tensor& prediction);

// Writes <dir>/<stem>_<task>.png for every final output; returns the paths written (dir is created).
std::vector<std::string> write_prediction_pngs(const Prediction& p, const std::string& dir, const std::string& stem);

// Writes the raw safetensors file described above.
// config_json: the experiment's config as JSON text (stored as metadata "config").
void write_prediction_raw(const Prediction& p, const std::string& path, const std::string& config_json,
                          const std::string& input_file);

}  // namespace mtinet
