// Evaluation on PASCAL-Context's five tasks, end to end through evaluate_predictor, on a hand-made two-image dataset
// of two original sizes (4x6 and 4x4) and hand-made predictions made at the network's 8x12 input size: each
// prediction is resized back to its image's size, human parts count only images with people, and every metric is
// computed by hand below. Then the multi-task delta's inputs: single-task results from files and from the config.
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "eval/evaluate.h"
#include "eval/multitask_delta.h"
#include "eval/single_task_results.h"
#include "model/tasks.h"
#include "scratch.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::test;

namespace {

Tensor filled(int64_t h, int64_t w, int64_t c, const std::function<std::vector<float>(int64_t, int64_t)>& at) {
  Tensor t = Tensor::empty({h, w, c}, DType::F32);
  float* p = t.data<float>();
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      std::vector<float> v = at(y, x);
      for (int64_t k = 0; k < c; ++k) p[(y * w + x) * c + k] = v[size_t(k)];
    }
  return t;
}

// Image A (4x6): semseg 0 on the left half, 5 on the right; no person (human parts all 0); salient right half;
// normals +z left, +x right; an edge down column 3.
// Image B (4x4): semseg all 5 but pixel (0,0) ignored; human parts 1 (head) on the top row, else 0; nothing
// salient; normals +z except an invalid (zero) pixel at (3,3); no edge.
class HandMadePascal : public Dataset {
 public:
  size_t size() const override { return 2; }
  std::string name() const override { return "hand-made pascal"; }
  Sample load(size_t i) const override {
    Sample s;
    s.id = i == 0 ? "A" : "B";
    int64_t h = 4, w = i == 0 ? 6 : 4;
    auto field = [&](const std::string& name, int64_t c, Interp interp,
                     const std::function<std::vector<float>(int64_t, int64_t)>& at) {
      s.fields[name] = {filled(h, w, c, at), interp};
    };
    field("image", 3, Interp::Cubic, [](int64_t y, int64_t x) {
      return std::vector<float>{float(10 * y), float(20 * x), 128.0f};
    });
    if (i == 0) {
      field("semseg", 1, Interp::Nearest, [](int64_t, int64_t x) { return std::vector<float>{x < 3 ? 0.0f : 5.0f}; });
      field("human_parts", 1, Interp::Nearest, [](int64_t, int64_t) { return std::vector<float>{0.0f}; });
      field("sal", 1, Interp::Nearest, [](int64_t, int64_t x) { return std::vector<float>{x < 3 ? 0.0f : 1.0f}; });
      field("normals", 3, Interp::Cubic, [](int64_t, int64_t x) {
        return x < 3 ? std::vector<float>{0, 0, 1} : std::vector<float>{1, 0, 0};
      });
      field("edge", 1, Interp::Nearest, [](int64_t, int64_t x) { return std::vector<float>{x == 3 ? 1.0f : 0.0f}; });
    } else {
      field("semseg", 1, Interp::Nearest,
            [](int64_t y, int64_t x) { return std::vector<float>{y == 0 && x == 0 ? 255.0f : 5.0f}; });
      field("human_parts", 1, Interp::Nearest, [](int64_t y, int64_t) { return std::vector<float>{y == 0 ? 1.0f : 0.0f}; });
      field("sal", 1, Interp::Nearest, [](int64_t, int64_t) { return std::vector<float>{0.0f}; });
      field("normals", 3, Interp::Cubic, [](int64_t y, int64_t x) {
        return y == 3 && x == 3 ? std::vector<float>{0, 0, 0} : std::vector<float>{0, 0, 1};
      });
      field("edge", 1, Interp::Nearest, [](int64_t, int64_t) { return std::vector<float>{0.0f}; });
    }
    return s;
  }
};

// Predictions at the 8x12 input size: semseg class 5 and human part 1 everywhere; saliency probability 0.62
// everywhere (between the thresholds 0.6 and 0.65, away from both); normals (0, 0, 2); edge logit +20 on input
// columns 6 and 7, -20 elsewhere. Resized bilinearly (align_corners=False) to 4x6, the edge lands on column 3 (source
// x = 2 * 3 + 0.5, between the two +20 columns); to 4x4 on column 2 (source x = 3 * 2.5 - 0.5 = 7).
std::map<std::string, Tensor> hand_made_predictions(const Tensor& images) {
  int64_t n = images.dim(0), h = images.dim(1), w = images.dim(2);
  REQUIRE(h == 8);
  REQUIRE(w == 12);
  auto constant = [&](int64_t c, const std::function<float(int64_t, int64_t)>& v) {
    Tensor t = Tensor::empty({n, h, w, c}, DType::F32);
    float* p = t.data<float>();
    for (int64_t i = 0; i < n * h * w; ++i)
      for (int64_t k = 0; k < c; ++k) p[i * c + k] = v(i % w, k);
    return t;
  };
  return {{"semseg", constant(21, [](int64_t, int64_t k) { return k == 5 ? 3.0f : 0.0f; })},
          {"human_parts", constant(7, [](int64_t, int64_t k) { return k == 1 ? 2.0f : -1.0f; })},
          {"sal", constant(1, [](int64_t, int64_t) { return float(std::log(0.62 / 0.38)); })},
          {"normals", constant(3, [](int64_t, int64_t k) { return k == 2 ? 2.0f : 0.0f; })},
          {"edge", constant(1, [](int64_t x, int64_t) { return x == 6 || x == 7 ? 20.0f : -20.0f; })}};
}

}  // namespace

TEST_CASE("PASCAL evaluation: hand-made predictions, resized to each image's size, against hand-computed metrics") {
  HandMadePascal data;
  TaskSet tasks = pascal_tasks();
  MetricOptions options = metric_options_for_tasks(tasks);
  CHECK(options.semseg_classes == 21);
  CHECK(options.edge_max_dist == 0.0075);
  EvalSettings settings;
  settings.height = 8;
  settings.width = 12;
  settings.batch_size = 2;
  nlohmann::json r = evaluate_predictor(hand_made_predictions, tasks.main_names(), options, data, settings);

  // semseg, pooled over both images: class 5 TP 12 + 15, FP 12 (A's left half), FN 0; class 0 FN 12; 19 classes
  // never seen count 0 in the mean over all 21.
  CHECK(r["semseg"]["jaccards_all_categs"][5].get<double>() == doctest::Approx(27.0 / 39.0));
  CHECK(r["semseg"]["jaccards_all_categs"][0].get<double>() == 0.0);
  CHECK(r["semseg"]["mIoU"].get<double>() == doctest::Approx(27.0 / 39.0 / 21.0));
  // human parts: A has no person and is skipped (counted, its 24 pixels would make class 1's FP 36); B: class 1 TP 4
  // (top row), FP 12; class 0 FN 12.
  CHECK(r["human_parts"]["n_images"].get<int64_t>() == 1);
  CHECK(r["human_parts"]["jaccards_all_categs"][1].get<double>() == doctest::Approx(4.0 / 16.0));
  CHECK(r["human_parts"]["mIoU"].get<double>() == doctest::Approx(0.25 / 7.0));
  // saliency: below 0.62 everything is salient: A precision 12/24, recall 1, IoU 0.5; B precision 0, recall 0, IoU
  // 0 -> means P 0.25, R 0.5, F = 2PR/(P+R) = 1/3, IoU 0.25. From 0.65 up nothing is salient: A IoU 0, B IoU 1 (both
  // empty) -> mean IoU 0.5, F 0. maxF and mIoU are the maxima over the thresholds.
  CHECK(r["sal"]["maxF"].get<double>() == doctest::Approx(1.0 / 3.0));
  CHECK(r["sal"]["mIoU"].get<double>() == doctest::Approx(0.5));
  // normals: 39 valid pixels, 27 at 0 degrees, 12 (A's right half) at 90.
  CHECK(r["normals"]["mean"].get<double>() == doctest::Approx(12.0 * 90.0 / 39.0));
  CHECK(r["normals"]["median"].get<double>() == doctest::Approx(0.0).epsilon(1e-3));
  for (const char* k : {"11.25", "22.5", "30"}) CHECK(r["normals"][k].get<double>() == doctest::Approx(2700.0 / 39.0));
  // edge: at every threshold A predicts its column 3 (4 pixels, all on the ground truth: matched 4) and B its
  // column 2 (4 pixels, no ground truth): P = 4/8, R = 4/4, odsF = 2/3.
  CHECK(r["edge"]["odsP"].get<double>() == doctest::Approx(0.5));
  CHECK(r["edge"]["odsR"].get<double>() == doctest::Approx(1.0));
  CHECK(r["edge"]["odsF"].get<double>() == doctest::Approx(2.0 / 3.0));
}

TEST_CASE("single-task results: from per-task and combined result files, inline metrics, and errors") {
  std::string dir = fresh_dir("mtinet_single_task_results");
  std::ofstream(dir + "/semseg.json") << R"({"mIoU": 0.5, "pixel_acc": 0.9})";
  std::ofstream(dir + "/results.json") << R"({"results": {"edge": {"odsF": 0.8}}})";
  std::ofstream(dir + "/bad.json") << R"({"results": {"semseg": {"mIoU": 0.5}}})";
  std::vector<std::string> tasks = {"semseg", "edge", "normals"};
  nlohmann::json spec = {{"semseg", dir + "/semseg.json"}, {"edge", dir + "/results.json"},
                         {"normals", {{"mean", 20.0}}}};
  nlohmann::json stl = resolve_single_task_results(spec, tasks);
  CHECK(stl["semseg"]["mIoU"] == 0.5);
  CHECK(stl["edge"]["odsF"] == 0.8);
  CHECK(stl["normals"]["mean"] == 20.0);
  // Multi-task: semseg +10 %, edge -5 %, normals 10 % lower angle = +10 % -> dm = 5.
  nlohmann::json mtl = {{"semseg", {{"mIoU", 0.55}}}, {"edge", {{"odsF", 0.76}}}, {"normals", {{"mean", 18.0}}}};
  CHECK(multitask_delta(mtl, stl)["dm"].get<double>() == doctest::Approx(5.0));

  CHECK(resolve_single_task_results(nlohmann::json::object(), tasks).empty());
  CHECK_THROWS_WITH_AS(resolve_single_task_results({{"semseg", dir + "/semseg.json"}}, tasks),
                       doctest::Contains("needs every main task; missing: edge, normals"), Error);
  CHECK_THROWS_WITH_AS(resolve_single_task_results({{"depth", {{"rmse", 1.0}}}}, tasks),
                       doctest::Contains("'depth' is not a main task"), Error);
  CHECK_THROWS_WITH_AS(task_results_from_file(dir + "/bad.json", "edge"),
                       doctest::Contains("no 'odsF' for task 'edge'"), Error);
  CHECK_THROWS_WITH_AS(task_results_from_file(dir + "/missing.json", "edge"), doctest::Contains("missing.json"),
                       Error);
  CHECK_THROWS_WITH_AS(resolve_single_task_results({{"normals", {{"median", 3.0}}}}, {"normals"}),
                       doctest::Contains("metrics with a number 'mean'"), Error);
}
