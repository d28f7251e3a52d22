#include "eval/panels.h"

#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <sstream>

#include "core/error.h"
#include "data/colormap.h"
#include "core/ops.h"
#include "data/image.h"
#include "data/sample_views.h"
#include "data/tiny_font.h"
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

// Stacks b below a (equal widths).
Tensor stacked(const Tensor& a, const Tensor& b) {
  MTINET_CHECK(a.dim(1) == b.dim(1), "panels: stacked parts differ in width");
  Tensor out = Tensor::empty({a.dim(0) + b.dim(0), a.dim(1), 3}, DType::U8);
  std::copy(a.data<uint8_t>(), a.data<uint8_t>() + a.numel(), out.data<uint8_t>());
  std::copy(b.data<uint8_t>(), b.data<uint8_t>() + b.numel(), out.data<uint8_t>() + a.numel());
  return out;
}

void fill_box(Tensor& rgb, int64_t x, int64_t y, int64_t w, int64_t h, const uint8_t* colour) {
  const int64_t H = rgb.dim(0), W = rgb.dim(1);
  for (int64_t yy = std::max<int64_t>(y, 0); yy < std::min(y + h, H); ++yy)
    for (int64_t xx = std::max<int64_t>(x, 0); xx < std::min(x + w, W); ++xx)
      for (int k = 0; k < 3; ++k) rgb.data<uint8_t>()[(yy * W + xx) * 3 + k] = colour[k];
}

const uint8_t kInk[3] = {0, 0, 0};
constexpr int64_t kScale = 2, kRow = (kFontHeight + 2) * kScale, kMargin = 6;

// Classes by how many pixels of the predicted (and true) map they cover, most first.
std::vector<int64_t> classes_shown(const Tensor& prediction, const Tensor* truth, size_t at_most) {
  const int64_t k = prediction.dim(3);
  std::vector<int64_t> count(size_t(k), 0);
  Tensor ids = ops::argmax_channels(prediction.to(Device::CPU).to(DType::F32));
  for (double v : ids.to_double_vector()) ++count[size_t(v)];
  if (truth != nullptr)
    for (double v : truth->to_double_vector())
      if (v >= 0 && v < double(k)) ++count[size_t(v)];
  std::vector<int64_t> order;
  for (int64_t c = 0; c < k; ++c)
    if (count[size_t(c)] > 0) order.push_back(c);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return count[size_t(a)] > count[size_t(b)]; });
  if (order.size() > at_most) order.resize(at_most);
  return order;
}

// A strip under a panel that says what its colours mean: the classes on view with their names, or a depth scale in
// metres, or the 0..1 grey scale of a probability. Empty (0 rows) for normals.
Tensor legend(const std::string& task, const Tensor& prediction, const Tensor* truth, const std::string& dataset,
              int64_t width) {
  if (task == "semseg" || task == "human_parts") {
    std::vector<std::string> names = class_names_for(dataset, task, prediction.dim(3));
    std::vector<int64_t> classes = classes_shown(prediction, truth, 16);
    const int64_t column = 26 * (kFontWidth + 1) * kScale / 2 + kRow + kMargin;  // swatch + ~13 characters
    const int64_t per_row = std::max<int64_t>(1, (width - kMargin) / column);
    const int64_t rows = (int64_t(classes.size()) + per_row - 1) / per_row;
    Tensor strip = Tensor::full({kMargin + rows * kRow + kMargin, width, 3}, 255.0, DType::U8);
    Tensor ids = Tensor::empty({1, int64_t(classes.size())}, DType::I64);
    for (size_t i = 0; i < classes.size(); ++i) ids.data<int64_t>()[i] = classes[i];
    Tensor colours = colorize_labels(ids);
    for (size_t i = 0; i < classes.size(); ++i) {
      const int64_t x = kMargin + int64_t(i) % per_row * column, y = kMargin + int64_t(i) / per_row * kRow;
      fill_box(strip, x, y, kRow - 2, kRow - 2, colours.data<uint8_t>() + 3 * i);
      std::string name = size_t(classes[i]) < names.size() ? names[size_t(classes[i])] : std::to_string(classes[i]);
      draw_text(strip, x + kRow + 2, y + 2, name.substr(0, 13), kInk, kScale);
    }
    return strip;
  }
  if (task == "depth" || task == "edge" || task == "sal") {
    double lo = 0, hi = 1;
    std::string unit;
    if (task == "depth") {
      lo = 1e300;
      hi = -1e300;
      for (double v : prediction.to_double_vector())
        if (v > 0) { lo = std::min(lo, v); hi = std::max(hi, v); }
      if (!(lo < hi)) return Tensor::empty({0, width, 3}, DType::U8);  // nothing valid to scale
      unit = " M";
    }
    std::ostringstream l, r;
    l << std::setprecision(3) << lo << unit;
    r << std::setprecision(3) << hi << unit;
    const int64_t bar_x = kMargin + text_width(l.str(), kScale) + kMargin;
    const int64_t bar_w = width - bar_x - kMargin - text_width(r.str(), kScale) - kMargin;
    Tensor strip = Tensor::full({kRow + 2 * kMargin, width, 3}, 255.0, DType::U8);
    if (bar_w < 8) return strip;
    Tensor ramp = Tensor::empty({1, bar_w}, DType::F32);
    for (int64_t i = 0; i < bar_w; ++i) ramp.data<float>()[i] = float(lo + (hi - lo) * double(i) / double(bar_w - 1));
    Tensor bar = task == "depth" ? colorize_depth(ramp, lo, hi) : grey_map(ramp);
    for (int64_t i = 0; i < bar_w; ++i) {
      const uint8_t* c = bar.data<uint8_t>() + i * bar.dim(2);
      const uint8_t rgb[3] = {c[0], c[bar.dim(2) == 3 ? 1 : 0], c[bar.dim(2) == 3 ? 2 : 0]};
      fill_box(strip, bar_x + i, kMargin, 1, kRow - 2, rgb);
    }
    draw_text(strip, kMargin, kMargin + 2, l.str(), kInk, kScale);
    draw_text(strip, width - kMargin - text_width(r.str(), kScale), kMargin + 2, r.str(), kInk, kScale);
    return strip;
  }
  return Tensor::empty({0, width, 3}, DType::U8);
}

}  // namespace

std::vector<std::string> write_panels(const Tensor& image, const Prediction& prediction,
                                      const std::map<std::string, Tensor>& truth, const std::string& dataset,
                                      const std::string& dir, const std::string& stem) {
  fs::create_directories(dir);
  std::vector<std::string> written;
  for (const auto& [task, out] : prediction.final) {
    std::vector<Tensor> parts = {image};
    auto t = truth.find(task);
    const Tensor* label = t != truth.end() ? &t->second : nullptr;
    if (label != nullptr) parts.push_back(sample_field_view(task, *label));
    parts.push_back(visualize_prediction(task, out));
    Tensor panel = side_by_side(parts);
    Tensor key = legend(task, out, label, dataset, panel.dim(1));
    if (key.dim(0) > 0) panel = stacked(panel, key);
    std::string path = (fs::path(dir) / (stem + "_panel_" + task + ".png")).string();
    save_png(path, panel);
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
