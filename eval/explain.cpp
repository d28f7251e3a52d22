#include "eval/explain.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "core/error.h"
#include "core/ops.h"
#include "data/colormap.h"
#include "data/image.h"
#include "eval/panels.h"

namespace mtinet {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> split_dots(const std::string& name) {
  std::vector<std::string> parts;
  std::stringstream ss(name);
  for (std::string p; std::getline(ss, p, '.');) parts.push_back(p);
  return parts;
}

// The mean (or the standard deviation) over channels [c0, c0 + count) of a {1, h, w, C} map, as {h, w} f32.
Tensor channel_stat(const Tensor& map, int64_t c0, int64_t count, bool deviation) {
  Tensor m = map.to(Device::CPU).to(DType::F32);
  const int64_t h = m.dim(1), w = m.dim(2), c = m.dim(3);
  Tensor out = Tensor::empty({h, w}, DType::F32);
  const float* src = m.data<float>();
  for (int64_t i = 0; i < h * w; ++i) {
    double s = 0, s2 = 0;
    for (int64_t k = c0; k < c0 + count; ++k) {
      s += src[i * c + k];
      s2 += double(src[i * c + k]) * src[i * c + k];
    }
    const double mean = s / double(count);
    out.data<float>()[i] = float(deviation ? std::sqrt(std::max(s2 / double(count) - mean * mean, 0.0)) : mean);
  }
  return out;
}

// {h, w} -> the heat map at the image's size over the image, half and half; lo/hi: the map's range.
Tensor overlay(const Tensor& map, const Tensor& image, double& lo, double& hi) {
  const int64_t H = image.dim(0), W = image.dim(1);
  Tensor up = ops::resize_bilinear(map.reshape_view({1, map.dim(0), map.dim(1), 1}), H, W).reshape_view({H, W});
  std::vector<double> v = up.to_double_vector();
  lo = *std::min_element(v.begin(), v.end());
  hi = *std::max_element(v.begin(), v.end());
  Tensor heat = colorize_heat(up, lo, hi);
  Tensor out = Tensor::empty({H, W, 3}, DType::U8);
  const uint8_t* a = image.data<uint8_t>();
  const uint8_t* b = heat.data<uint8_t>();
  for (int64_t i = 0; i < H * W * 3; ++i) out.data<uint8_t>()[i] = uint8_t((int(a[i]) + int(b[i]) + 1) / 2);
  return out;
}

std::string range(double lo, double hi) {
  std::ostringstream os;
  os << std::setprecision(4) << lo << " .. " << hi;
  return os.str();
}

}  // namespace

std::vector<std::string> write_explanation(const Tensor& image, const Prediction& prediction,
                                           const std::vector<std::pair<std::string, Tensor>>& maps,
                                           const std::vector<std::string>& auxiliary, bool fpm_across_tasks,
                                           const std::string& dataset, const std::string& dir,
                                           const std::string& stem) {
  MTINET_CHECK(image.ndim() == 3 && image.dim(2) == 3 && image.dtype() == DType::U8,
               "explain: expected the input image as {H, W, 3} u8, got ", image.describe());
  fs::create_directories(dir);
  std::vector<std::string> written;
  std::ostringstream text;
  text << "What each image shows (heat maps: dark purple = the map's minimum, yellow = its maximum).\n\n";
  auto save = [&](const std::string& name, const Tensor& rgb, const std::string& what) {
    std::string path = (fs::path(dir) / (stem + "_" + name + ".png")).string();
    save_png(path, rgb);
    written.push_back(path);
    text << fs::path(path).filename().string() << ": " << what << "\n";
  };
  const int64_t n_tasks = int64_t(auxiliary.size());
  for (const auto& [name, map] : maps) {
    MTINET_CHECK(map.ndim() == 4 && map.dim(0) == 1, "explain: map '", name, "' is not one image's NHWC map: ",
                 map.describe());
    std::vector<std::string> p = split_dots(name);
    double lo = 0, hi = 0;
    if (p.size() == 2 && p[1] == "mask") {  // fpm_scale_<s>.mask
      const std::string scale = p[0].substr(std::string("fpm_scale_").size());
      MTINET_CHECK(n_tasks > 0 && map.dim(3) % n_tasks == 0, "explain: FPM mask '", name, "' has ", map.dim(3),
                   " channels, not a multiple of the ", n_tasks, " tasks");
      const int64_t c = map.dim(3) / n_tasks;
      for (int64_t t = 0; t < n_tasks; ++t) {
        // The paper's grouping softmaxes over the tasks' copies of a channel: the mean over a task's channels is
        // its share of the shared representation. The reference's softmaxes over N adjacent channels, which lie
        // within one task: every task's mean is exactly 1/N, and what varies is how selective the mask is among
        // the task's channels, its standard deviation (0 = all pass alike).
        Tensor stat = channel_stat(map, t * c, c, !fpm_across_tasks);
        Tensor rgb = overlay(stat, image, lo, hi);
        save("fpm_scale" + scale + "_" + auxiliary[size_t(t)], rgb,
             "FPM mask at scale " + scale + ", " + (fpm_across_tasks ? "mean" : "standard deviation") +
                 " over task " + auxiliary[size_t(t)] + "'s channels (" + range(lo, hi) + ")");
      }
    } else if (p.size() == 5 && p[1] == "self_attention" && p[4] == "attention") {
      const std::string scale = p[0].substr(std::string("distillation_scale_").size());
      Tensor rgb = overlay(channel_stat(map, 0, map.dim(3), false), image, lo, hi);
      save("attention_scale" + scale + "_" + p[2] + "_from_" + p[3], rgb,
           "spatial attention at scale " + scale + " on " + p[3] + "'s features for " + p[2] + ", mean over channels (" +
               range(lo, hi) + ")");
    }
  }
  for (const std::string& path : write_panels(image, prediction, {}, dataset, dir, stem)) {
    written.push_back(path);
    text << fs::path(path).filename().string() << ": input | prediction\n";
  }
  text << describe_colours(prediction, dataset);
  std::string text_path = (fs::path(dir) / (stem + "_explain.txt")).string();
  std::ofstream f(text_path);
  f << text.str();
  MTINET_CHECK(f.good(), "explain: cannot write '", text_path, "'");
  written.push_back(text_path);
  return written;
}

}  // namespace mtinet
