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
#include "data/sample_views.h"
#include "eval/panels.h"

namespace mtinet {

namespace fs = std::filesystem;

namespace {
bool is_image(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
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
    Tensor image = sample_field_view("image", s.fields.at("image").map);  // u8 for the panels
    Prediction p = predictor.predict(image);
    std::map<std::string, Tensor> truth;
    for (const std::string& t : tasks)
      if (s.fields.count(t)) truth[t] = s.fields.at(t).map;
    write_panels(image, p, truth, cfg.data.dataset, out, s.id);
  }
  return int64_t(data->size());
}

}  // namespace mtinet
