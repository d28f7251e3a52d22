#include "tools/predict_many.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <map>
#include <vector>

#include "core/error.h"
#include "data/dataset_factory.h"
#include "data/image.h"
#include "eval/panels.h"

namespace mtinet {

namespace fs = std::filesystem;

namespace {
bool is_image(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

// A sample's image (f32 0..255 {H, W, 3}) as u8 for the panels.
Tensor to_u8(const Tensor& image) {
  Tensor f = image.to(DType::F32);
  Tensor out = Tensor::empty(f.shape(), DType::U8);
  const float* src = f.data<float>();
  for (int64_t i = 0; i < f.numel(); ++i)
    out.data<uint8_t>()[i] = uint8_t(std::clamp(src[i] + 0.5f, 0.f, 255.f));
  return out;
}
}  // namespace

int64_t predict_folder(Predictor& predictor, const std::string& folder, const std::string& dataset,
                       const std::string& out) {
  std::vector<fs::path> images;
  for (const fs::directory_entry& e : fs::directory_iterator(folder))
    if (e.is_regular_file() && is_image(e.path())) images.push_back(e.path());
  std::sort(images.begin(), images.end());
  MTINET_CHECK(!images.empty(), "predict: the folder '", folder, "' holds no .jpg, .jpeg or .png image");
  for (const fs::path& path : images) {
    Tensor image = load_image(path.string(), 3);
    Prediction p = predictor.predict(image);
    write_panels(image, p, {}, dataset, out, path.stem().string());
  }
  return int64_t(images.size());
}

int64_t predict_split(Predictor& predictor, const TrainConfig& cfg, const std::string& split, const std::string& out) {
  std::vector<std::string> tasks = predictor.model().tasks().main_names();
  std::shared_ptr<Dataset> data = open_dataset(cfg.data.dataset, cfg.data.root, split, tasks);
  for (size_t i = 0; i < data->size(); ++i) {
    Sample s = data->load(i);
    Tensor image = to_u8(s.fields.at("image").map);
    Prediction p = predictor.predict(image);
    std::map<std::string, Tensor> truth;
    for (const std::string& t : tasks)
      if (s.fields.count(t)) truth[t] = s.fields.at(t).map;
    write_panels(image, p, truth, cfg.data.dataset, out, s.id);
  }
  return int64_t(data->size());
}

}  // namespace mtinet
