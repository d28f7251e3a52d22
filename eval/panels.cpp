#include "eval/panels.h"

#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <sstream>

#include "core/error.h"
#include "data/colormap.h"
#include "data/image.h"
#include "eval/class_names.h"

namespace mtinet {

namespace fs = std::filesystem;

namespace {

// Places images of equal height side by side, 8 white pixels apart; grey images become RGB.
Tensor side_by_side(const std::vector<Tensor>& images) {
  const int64_t H = images.front().dim(0), gap = 8;
  int64_t W = 0;
  for (const Tensor& im : images) W += im.dim(1) + (W > 0 ? gap : 0);
  Tensor out = Tensor::full({H, W, 3}, 255.0, DType::U8);
  int64_t x0 = 0;
  for (const Tensor& im : images) {
    MTINET_CHECK(im.dim(0) == H, "explain: panel parts differ in height");
    const int64_t w = im.dim(1), c = im.dim(2);
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < w; ++x)
        for (int64_t k = 0; k < 3; ++k)
          out.data<uint8_t>()[(y * W + x0 + x) * 3 + k] = im.data<uint8_t>()[(y * w + x) * c + (c == 3 ? k : 0)];
    x0 += w + gap;
  }
  return out;
}

}  // namespace

Tensor visualize_label(const std::string& task, const Tensor& label) {
  MTINET_CHECK(label.ndim() == 3, "visualize: expected an {H, W, C} '", task, "' label, got ", label.describe());
  const int64_t h = label.dim(0), w = label.dim(1);
  Tensor l = label.to(Device::CPU).to(DType::F32);
  if (task == "semseg" || task == "human_parts") {
    Tensor ids = l.to(DType::I64).reshape_view({h, w});
    return colorize_labels(ids);
  }
  if (task == "depth") return colorize_depth(l.reshape_view({h, w}));
  if (task == "normals") return colorize_normals(l);
  if (task == "edge" || task == "sal") return grey_map(l.reshape_view({h, w}));
  MTINET_FAIL("visualize: unknown task '", task, "'");
}

std::vector<std::string> write_panels(const Tensor& image, const Prediction& prediction,
                                      const std::map<std::string, Tensor>& truth, const std::string& dir,
                                      const std::string& stem) {
  fs::create_directories(dir);
  std::vector<std::string> written;
  for (const auto& [task, out] : prediction.final) {
    std::vector<Tensor> parts = {image};
    auto t = truth.find(task);
    if (t != truth.end()) parts.push_back(visualize_label(task, t->second));
    parts.push_back(visualize_prediction(task, out));
    std::string path = (fs::path(dir) / (stem + "_panel_" + task + ".png")).string();
    save_png(path, side_by_side(parts));
    written.push_back(path);
  }
  return written;
}

std::string describe_colours(const Prediction& prediction, const std::string& dataset) {
  std::ostringstream text;
  for (const auto& [task, out] : prediction.final) {
    if (task == "semseg" || task == "human_parts") {
      std::vector<std::string> names = class_names_for(dataset, task, out.dim(3));
      if (names.empty()) continue;
      Tensor ids = Tensor::empty({1, int64_t(names.size())}, DType::I64);
      for (size_t k = 0; k < names.size(); ++k) ids.data<int64_t>()[k] = int64_t(k);
      Tensor colours = colorize_labels(ids);
      text << "  " << task << " colours (RGB):";
      for (size_t k = 0; k < names.size(); ++k) {
        const uint8_t* rgb = colours.data<uint8_t>() + 3 * k;
        text << (k ? ", " : " ") << names[k] << " " << int(rgb[0]) << "/" << int(rgb[1]) << "/" << int(rgb[2]);
      }
      text << "\n";
    }
    if (task == "depth") {
      double lo = 1e300, hi = -1e300;
      for (double v : out.to_double_vector())
        if (v > 0) { lo = std::min(lo, v); hi = std::max(hi, v); }
      if (lo <= hi)
        text << "  depth colours: yellow = " << std::setprecision(3) << lo << " m (near) .. dark purple = " << hi
             << " m (far)\n";
    }
  }
  return text.str();
}

}  // namespace mtinet
