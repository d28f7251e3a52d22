// predict --explain and panels (issue 16, item 3): the maps a forward pass hands to a tap::Recorder, named by
// state_dict path, the FPM mask's grouping property that decides how it is drawn, the files write_explanation
// produces, and the panels of a split (with ground truth) and of a folder.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "core/autograd.h"
#include "core/rng.h"
#include "data/image.h"
#include "data/tiny_font.h"
#include "eval/explain.h"
#include "layers/activation_tap.h"
#include "model/factory.h"
#include "scratch.h"
#include "tools/predict_many.h"
#include "train/config.h"
#include "test_util.h"

using namespace mtinet;
namespace fs = std::filesystem;

namespace {
ModelConfig tiny_aux(const std::string& grouping) {
  ModelConfig c;
  c.backbone = "hrnet_tiny";
  c.tasks = "nyud_aux";  // main semseg, depth; auxiliary semseg, normals, edge, depth
  c.fpm_grouping = grouping;
  return c;
}

std::vector<std::pair<std::string, Tensor>> record_forward(MultiTaskNetwork& model) {
  Rng rng(3);
  Tensor x = test::random_tensor({1, 64, 64, 3}, rng, -1, 1, DType::F32);
  NoGradGuard no_grad;
  model.eval();
  tap::Recorder recorder;
  model.forward(x);
  return recorder.maps();
}

// The per-pixel mean of each task's block of channels of a {1, h, w, N*C} mask.
std::vector<std::vector<double>> task_means(const Tensor& mask, int64_t n) {
  std::vector<double> v = mask.to_double_vector();
  const int64_t pixels = mask.dim(1) * mask.dim(2), c = mask.dim(3) / n;
  std::vector<std::vector<double>> out(static_cast<size_t>(n), std::vector<double>(static_cast<size_t>(pixels)));
  for (int64_t p = 0; p < pixels; ++p)
    for (int64_t t = 0; t < n; ++t) {
      double s = 0;
      for (int64_t k = 0; k < c; ++k) s += v[size_t(p * mask.dim(3) + t * c + k)];
      out[size_t(t)][size_t(p)] = s / double(c);
    }
  return out;
}
}  // namespace

TEST_CASE("a forward pass under a tap::Recorder hands over every FPM mask and attention map by state_dict path") {
  auto model = build_model(tiny_aux("reference"));
  std::vector<std::pair<std::string, Tensor>> maps = record_forward(*model);
  std::set<std::string> names;
  for (const auto& [name, t] : maps) names.insert(name);
  // 3 FPMs (scales 1..3) + 4 scales x 2 main tasks x 3 other auxiliary tasks.
  CHECK(maps.size() == 3 + 4 * 2 * 3);
  CHECK(names.count("fpm_scale_3.mask"));
  CHECK(names.count("fpm_scale_1.mask"));
  CHECK(names.count("distillation_scale_0.self_attention.semseg.depth.attention"));
  CHECK(names.count("distillation_scale_3.self_attention.depth.edge.attention"));
  CHECK_FALSE(names.count("distillation_scale_0.self_attention.semseg.semseg.attention"));
  // Without a recorder nothing is kept, and a later recorder starts empty.
  { Rng rng(1); NoGradGuard g; model->forward(test::random_tensor({1, 64, 64, 3}, rng, -1, 1, DType::F32)); }
  tap::Recorder fresh;
  CHECK(fresh.maps().empty());
}

TEST_CASE("the FPM mask averages 1/N over each task's channels with the reference grouping, sums to 1 with the paper's") {
  for (std::string grouping : {"reference", "paper"}) {
    CAPTURE(grouping);
    auto model = build_model(tiny_aux(grouping));
    for (const auto& [name, mask] : record_forward(*model)) {
      if (name.find(".mask") == std::string::npos) continue;
      std::vector<std::vector<double>> means = task_means(mask, 4);
      double worst_flat = 0, worst_sum = 0, spread = 0;
      for (size_t p = 0; p < means[0].size(); ++p) {
        double sum = 0;
        for (size_t t = 0; t < 4; ++t) {
          sum += means[t][p];
          worst_flat = std::max(worst_flat, std::fabs(means[t][p] - 0.25));
        }
        worst_sum = std::max(worst_sum, std::fabs(sum - 1.0));
      }
      for (size_t p = 1; p < means[0].size(); ++p) spread = std::max(spread, std::fabs(means[0][p] - means[0][0]));
      CHECK(worst_sum < 1e-5);  // both: the task shares of a pixel sum to 1
      if (grouping == "reference") {
        CHECK(worst_flat < 1e-5);  // so its mean is no picture at all: explain draws the deviation
      } else {
        CHECK(spread > 4e-6);  // the paper's shares vary over the image (little at initialisation; f32 eps ~1e-7)
      }
    }
  }
}

TEST_CASE("write_explanation writes a heat map per task and scale, per attention map, and a panel per task") {
  ModelConfig mc = tiny_aux("reference");
  auto model = build_model(mc);
  std::vector<std::pair<std::string, Tensor>> maps = record_forward(*model);
  Prediction p;
  Rng rng(5);
  p.final["semseg"] = test::random_tensor({1, 48, 40, 40}, rng, -1, 1, DType::F32);
  p.final["depth"] = test::random_tensor({1, 48, 40, 1}, rng, 0.5, 4, DType::F32);
  Tensor image = Tensor::full({48, 40, 3}, 100.0, DType::U8);
  std::string dir = test::fresh_dir("mtinet_explain");  // removed at exit
  std::vector<std::string> written =
      write_explanation(image, p, maps, model->tasks().auxiliary_names(), false, "nyud", dir, "img");
  CHECK(written.size() == 3 * 4 + 24 + 2 + 1);
  Tensor heat = load_image(dir + "/img_fpm_scale2_normals.png", 3);
  CHECK(heat.dim(0) == 48);
  CHECK(heat.dim(1) == 40);
  Tensor panel = load_image(dir + "/img_panel_semseg.png", 3);
  CHECK(panel.dim(1) == 40 + 8 + 40);
  CHECK(panel.dim(0) > 48);  // the class legend under the images
  CHECK(load_image(dir + "/img_panel_depth.png", 3).dim(0) > 48);  // the depth scale (predictions 0.5..4 m)
  CHECK(fs::exists(dir + "/img_attention_scale0_semseg_from_edge.png"));
  std::ifstream text(dir + "/img_explain.txt");
  std::string all((std::istreambuf_iterator<char>(text)), std::istreambuf_iterator<char>());
  CHECK(all.find("standard deviation over task normals's channels") != std::string::npos);
  CHECK(all.find("semseg colours (RGB): wall 0/0/0, floor 128/0/0") != std::string::npos);
  CHECK(all.find("depth colours: yellow = 0.5") != std::string::npos);
}

TEST_CASE("predict over a split shows input | ground truth | prediction per task, over a folder input | prediction") {
  ModelConfig mc;
  mc.backbone = "hrnet_tiny";
  std::string root = test::synthetic_dataset("mtinet_panels_data", 5, 64, 7, 0.4);
  std::string weights = test::fresh_dir("mtinet_panels_weights") + "/w.safetensors";
  build_model(mc)->save(weights);
  Predictor predictor(mc, weights, 64, 64);
  TrainConfig cfg = parse_train_config({{"model", mc.to_json()}, {"data", {{"root", root}, {"size", {64, 64}}}}});
  std::string out = test::fresh_dir("mtinet_panels_out");
  const int64_t n = predict_split(predictor, cfg, "val", out);
  CHECK(n == 2);
  int64_t panels = 0;
  for (const fs::directory_entry& e : fs::directory_iterator(out)) {
    Tensor panel = load_image(e.path().string(), 3);
    CHECK(panel.dim(1) == 3 * 64 + 2 * 8);  // input | truth | prediction
    ++panels;
  }
  CHECK(panels == 2 * 2);  // semseg and depth per image
  std::string out2 = test::fresh_dir("mtinet_panels_folder");
  CHECK(predict_folder(predictor, root + "/images", "nyud", out2) == 5);
  CHECK(load_image(out2 + "/" + fs::directory_iterator(out2)->path().filename().string(), 3).dim(1) == 2 * 64 + 8);
  std::string empty = test::fresh_dir("mtinet_panels_empty");
  CHECK(test::error_message([&] { predict_folder(predictor, empty, "nyud", out2); })
            .find("the folder '" + empty + "' holds no .jpg, .jpeg or .png image") != std::string::npos);
}

TEST_CASE("draw_text draws the 3x5 glyphs at the given place and scale, clipped to the image") {
  Tensor img = Tensor::zeros({12, 20, 3}, DType::U8);
  const uint8_t white[3] = {255, 255, 255};
  draw_text(img, 1, 1, "I-", white, 2);  // 'I' = 111/010/010/010/111, '-' = 000/000/111/000/000
  auto lit = [&](int64_t y, int64_t x) { return img.data<uint8_t>()[(y * 20 + x) * 3] == 255; };
  CHECK(lit(1, 1));       // I, top row, left pixel (2x2 block at y 1..2, x 1..2)
  CHECK(lit(2, 6));       // I, top row, right pixel (x 5..6)
  CHECK_FALSE(lit(3, 1)); // I, second row, left pixel is off
  CHECK(lit(3, 3));       // I, second row, middle
  CHECK(lit(5, 9));       // '-' starts at x = 1 + 4 * 2 = 9, middle row at y = 1 + 2 * 2 = 5
  CHECK_FALSE(lit(1, 9));
  CHECK(text_width("I-", 2) == (2 * 4 - 1) * 2);
  draw_text(img, 18, 10, "W", white, 2);  // mostly outside: clipped, no throw
  CHECK(lit(10, 18));
}
