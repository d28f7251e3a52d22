// Inference and evaluation on a tiny synthetic dataset with a freshly initialised MTI-Net: predict writes PNGs at
// the input image's size and a raw file with the documented names and NCHW shapes; evaluation writes per-task
// JSON; the trivial baseline fits hand-computed statistics; beats_trivial compares in both directions.
#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "core/autograd.h"
#include "core/layout.h"
#include "core/ops.h"
#include "core/rng.h"
#include "data/image.h"
#include "data/nyud.h"
#include "data/synth_dataset.h"
#include "eval/evaluate.h"
#include "eval/predictor.h"
#include "eval/trivial_baseline.h"
#include "model/factory.h"
#include "scratch.h"
#include "test_util.h"
#include "train/trainer.h"

using namespace mtinet;
using namespace mtinet::test;
namespace fs = std::filesystem;

namespace {

// Per-process names: several test runs may share /tmp.

// 8 synthetic 64x64 samples (6 train, 2 val), written once.
std::string synthetic_root() {
  static std::string root;
  if (!root.empty()) return root;
  root = synthetic_dataset("mtinet_predict_synth", 8, 64, 11, 0.25);
  return root;
}

ModelConfig small_mtinet() {
  ModelConfig m;
  m.model = "mtinet";
  m.tasks = "nyud";
  m.backbone = "hrnet_tiny";  // fast; the decoder and outputs are MTI-Net's
  m.seed = 7;
  return m;
}

// A freshly initialised MTI-Net saved as a weights file, once.
std::string saved_weights() {
  static std::string path;
  if (!path.empty()) return path;
  path = fresh_dir("mtinet_predict_weights") + "/fresh.weights.safetensors";
  build_model(small_mtinet())->save(path);
  return path;
}

// An in-memory dataset with hand-made labels.
class HandDataset : public Dataset {
 public:
  explicit HandDataset(std::vector<Sample> samples) : samples_(std::move(samples)) {}
  size_t size() const override { return samples_.size(); }
  Sample load(size_t i) const override { return samples_.at(i); }
  std::string name() const override { return "hand"; }

 private:
  std::vector<Sample> samples_;
};

// A 2x3 sample with the given semseg labels, depths and a uniform grey image.
Sample hand_sample(const std::string& id, const std::vector<float>& semseg, const std::vector<float>& depth,
                   const std::vector<float>& normals, const std::vector<float>& edge) {
  Sample s;
  s.id = id;
  s.fields["image"] = {Tensor::full({2, 3, 3}, 128.0), Interp::Cubic};
  s.fields["semseg"] = {Tensor::from_vector<float>({2, 3, 1}, semseg), Interp::Nearest};
  s.fields["depth"] = {Tensor::from_vector<float>({2, 3, 1}, depth), Interp::Nearest};
  s.fields["normals"] = {Tensor::from_vector<float>({2, 3, 3}, normals), Interp::Cubic};
  s.fields["edge"] = {Tensor::from_vector<float>({2, 3, 1}, edge), Interp::Nearest};
  return s;
}

std::vector<float> flat_normals(const std::vector<std::array<float, 3>>& v) {
  std::vector<float> out;
  for (const auto& n : v) out.insert(out.end(), n.begin(), n.end());
  return out;
}

}  // namespace

TEST_CASE("predict: PNGs at the input image's size, raw outputs with the documented names and NCHW shapes") {
  std::string dir = fresh_dir("mtinet_predict_out");
  // An input whose size differs from the network's 64x64 (and is not divisible by 32).
  Rng rng(3);
  Tensor img = Tensor::empty({50, 70, 3}, DType::U8);
  for (int64_t i = 0; i < img.numel(); ++i) img.data<uint8_t>()[i] = uint8_t(rng.randint(256));
  std::string input = dir + "/photo.png";
  save_png(input, img);

  Predictor predictor(small_mtinet(), saved_weights(), 64, 64, Device::CPU);
  Prediction p = predictor.predict_file(input);
  REQUIRE(p.final.size() == 2);
  CHECK(p.image_h == 50);
  CHECK(p.image_w == 70);

  std::vector<std::string> pngs = write_prediction_pngs(p, dir, "photo");
  REQUIRE(pngs.size() == 2);
  for (std::string task : {"semseg", "depth"}) {
    std::string path = dir + "/photo_" + task + ".png";
    REQUIRE(fs::exists(path));
    Tensor png = load_image(path);
    CHECK(png.dim(0) == 50);
    CHECK(png.dim(1) == 70);
    CHECK(png.dim(2) == 3);
  }

  std::string raw = dir + "/photo.raw.safetensors";
  write_prediction_raw(p, raw, "{\"model\":{}}", input);
  SafetensorsContents f = load_safetensors(raw);
  CHECK(f.at("semseg").shape() == Shape{1, 40, 50, 70});
  CHECK(f.at("depth").shape() == Shape{1, 1, 50, 70});
  for (int s = 0; s < 4; ++s) {
    int64_t side = 64 / (4 << s);
    CAPTURE(s);
    CHECK(f.at("initial.scale_" + std::to_string(s) + ".semseg").shape() == Shape{1, 40, side, side});
    CHECK(f.at("initial.scale_" + std::to_string(s) + ".depth").shape() == Shape{1, 1, side, side});
  }
  CHECK(f.tensors.size() == 2 + 4 * 2);
  CHECK(f.at("depth").dtype() == DType::F32);
  CHECK(f.metadata.at("image_size") == "50x70");
  CHECK(f.metadata.at("input_size") == "64x64");
  CHECK(f.metadata.at("input") == input);
  CHECK(f.metadata.at("layout") == "NCHW");
  CHECK(f.metadata.at("config") == "{\"model\":{}}");

  // The final outputs are the model's output on the normalised 64x64 image, resized bilinearly to 50x70.
  auto model = build_model(small_mtinet());
  model->load_state_dict(load_safetensors(saved_weights()));
  model->eval();
  NoGradGuard no_grad;
  ModelOutput out = model->forward(prepare_image(img, 64, 64));
  Tensor expected = nhwc_to_nchw(ops::resize_bilinear(out.tasks.at("depth"), 50, 70));
  test::check_close(f.at("depth"), expected, 1e-6, 1e-5, "raw depth");
  Tensor expected_ds = nhwc_to_nchw(out.deep_supervision[2].at("semseg"));
  test::check_close(f.at("initial.scale_2.semseg"), expected_ds, 1e-6, 1e-5, "raw scale 2 semseg");
}

TEST_CASE("predict: visualisations of every task have the prediction's size and meaningful pixels") {
  Tensor logits = Tensor::zeros({1, 2, 2, 3});
  logits.data<float>()[1] = 5.0f;  // pixel 0 -> class 1; the others tie -> class 0
  Tensor seg = visualize_prediction("semseg", logits);
  CHECK(seg.shape() == Shape{2, 2, 3});
  CHECK(int(seg.data<uint8_t>()[0]) == 128);  // VOC colour of class 1: (128, 0, 0)
  CHECK(int(seg.data<uint8_t>()[3]) == 0);    // class 0: black
  Tensor normals = Tensor::from_vector<float>({1, 1, 1, 3}, {0.0f, 0.0f, -4.0f});
  Tensor nv = visualize_prediction("normals", normals);
  CHECK(int(nv.data<uint8_t>()[2]) == 0);  // normalised to -1 -> 0
  CHECK(int(nv.data<uint8_t>()[0]) == 128);
  Tensor edge = visualize_prediction("edge", Tensor::from_vector<float>({1, 1, 2, 1}, {0.0f, 100.0f}));
  CHECK(edge.shape() == Shape{1, 2, 1});
  CHECK(int(edge.data<uint8_t>()[0]) == 128);
  CHECK(int(edge.data<uint8_t>()[1]) == 255);
  CHECK(visualize_prediction("sal", Tensor::zeros({1, 4, 5, 1})).shape() == Shape{4, 5, 1});
  CHECK(visualize_prediction("human_parts", Tensor::zeros({1, 4, 5, 7})).shape() == Shape{4, 5, 3});
  CHECK_THROWS_WITH_AS(visualize_prediction("normals", Tensor::zeros({1, 2, 2, 1})),
                       doctest::Contains("normals need 3 channels"), Error);
}

TEST_CASE("predict: errors name the missing image and the keys of weights that do not match the config") {
  Predictor predictor(small_mtinet(), saved_weights(), 64, 64, Device::CPU);
  CHECK_THROWS_WITH_AS(predictor.predict_file("/nonexistent/picture.jpg"), doctest::Contains("/nonexistent/picture.jpg"),
                       Error);
  ModelConfig aux = small_mtinet();
  aux.tasks = "nyud_aux";  // has normals and edge heads the saved weights lack
  try {
    Predictor wrong(aux, saved_weights(), 64, 64, Device::CPU);
    FAIL("a mismatching weights file loaded");
  } catch (const Error& e) {
    std::string msg = e.what();
    CHECK(msg.find(saved_weights()) != std::string::npos);
    CHECK(msg.find("normals") != std::string::npos);
  }
  CHECK_THROWS_WITH_AS(Predictor(small_mtinet(), saved_weights(), 48, 64), doctest::Contains("divisible by 32"), Error);
  CHECK_THROWS_WITH_AS(Predictor(small_mtinet(), "/nonexistent/w.safetensors", 64, 64),
                       doctest::Contains("/nonexistent/w.safetensors"), Error);
}

TEST_CASE("eval: metrics of the val split, written as one combined and one file per task") {
  auto model = build_model(small_mtinet());
  model->load_state_dict(load_safetensors(saved_weights()));
  NyudDataset val(synthetic_root(), "val", {"semseg", "depth"});
  REQUIRE(val.size() == 2);
  EvalSettings s;
  s.height = 64;
  s.width = 64;
  s.batch_size = 2;
  nlohmann::json results = evaluate_model(*model, val, s);
  for (const char* key : {"mIoU", "pixel_acc", "jaccards_all_categs", "loss"}) CHECK(results["semseg"].contains(key));
  for (const char* key : {"rmse", "log_rmse", "abs_rel", "delta1", "loss"}) CHECK(results["depth"].contains(key));
  CHECK(results["semseg"]["n_valid"].get<int64_t>() > 0);
  CHECK(std::isfinite(results["depth"]["rmse"].get<double>()));
  CHECK(results["semseg"]["loss"].get<double>() > 0);

  // Batch size does not change the pooled metrics.
  s.batch_size = 1;
  nlohmann::json again = evaluate_model(*model, val, s);
  CHECK(again["semseg"]["n_valid"] == results["semseg"]["n_valid"]);
  CHECK(again["semseg"]["mIoU"].get<double>() == doctest::Approx(results["semseg"]["mIoU"].get<double>()).epsilon(1e-3));
  CHECK(again["depth"]["rmse"].get<double>() == doctest::Approx(results["depth"]["rmse"].get<double>()).epsilon(1e-9));

  std::string dir = fresh_dir("mtinet_eval_out");
  std::vector<std::string> written = write_eval_results(dir + "/results.json", {{"results", results}}, results);
  REQUIRE(written.size() == 3);
  std::ifstream f(dir + "/depth.json");
  nlohmann::json depth = nlohmann::json::parse(f);
  CHECK(depth["rmse"].get<double>() == results["depth"]["rmse"].get<double>());
  std::ifstream g(dir + "/results.json");
  CHECK(nlohmann::json::parse(g)["results"]["semseg"].contains("mIoU"));
}

TEST_CASE("trivial baseline: majority class, mean depth, mean normal and edge fraction of hand-made labels") {
  // semseg (255 = ignore): class 0 x2, class 1 x4, class 2 x3 -> majority 1 with 4/9 of the valid pixels.
  // depth (0 = invalid): valid 1, 2, 3, 4, 2, 2, 6 -> mean 20/7.
  std::vector<float> n1 = flat_normals({{0, 0, 2}, {0, 0, 1}, {0, 0, 0}, {1, 0, 0}, {0, 0, 1}, {0, 0, 1}});
  std::vector<float> n2 = flat_normals({{0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 1, 0}});
  HandDataset train({hand_sample("a", {0, 1, 1, 255, 2, 1}, {0, 1, 2, 3, 0, 4}, n1, {1, 0, 0, 0, 0, 0}),
                     hand_sample("b", {1, 0, 2, 2, 255, 255}, {2, 2, 0, 0, 0, 6}, n2, {1, 1, 0, 0, 0, 0})});
  std::vector<TaskSpec> specs = {semseg_task(3), depth_task(), normals_task(), edge_task()};
  TrivialBaseline b = fit_trivial_baseline(train, specs, 2);
  CHECK(b.fitted["semseg"]["class"].get<int64_t>() == 1);
  CHECK(b.fitted["semseg"]["pixel_fraction"].get<double>() == doctest::Approx(4.0 / 9.0));
  CHECK(b.raw.at("semseg") == std::vector<double>{0, 1, 0});
  CHECK(b.raw.at("depth")[0] == doctest::Approx(20.0 / 7.0).epsilon(1e-12));
  // Normals: unit labels summed (0,0,1)*4 + (1,0,0) + (0,1,0) -> (1,1,4)/sqrt(18).
  CHECK(b.raw.at("normals")[0] == doctest::Approx(1 / std::sqrt(18.0)));
  CHECK(b.raw.at("normals")[2] == doctest::Approx(4 / std::sqrt(18.0)));
  CHECK(b.fitted["edge"]["positive_fraction"].get<double>() == doctest::Approx(3.0 / 12.0));
  CHECK(1 / (1 + std::exp(-b.raw.at("edge")[0])) == doctest::Approx(0.25));

  // Evaluated on a val set with the same metrics: every valid pixel predicted class 1 and depth 20/7.
  HandDataset val({hand_sample("v", {1, 1, 0, 2, 255, 1}, {1, 0, 3, 0, 2, 2}, n1, {0, 0, 0, 0, 0, 0})});
  TaskSet tasks;
  tasks.name = "nyud";
  tasks.main = {semseg_task(3), depth_task()};
  tasks.auxiliary = tasks.main;
  EvalSettings s;
  s.height = 32;
  s.width = 32;
  nlohmann::json r = evaluate_trivial_baseline(b, tasks, val, s);
  CHECK(r["semseg"]["pixel_acc"].get<double>() == doctest::Approx(3.0 / 5.0));
  CHECK(r["semseg"]["mIoU"].get<double>() == doctest::Approx((3.0 / 5.0) / 3.0));  // IoU of class 1 = 3/5
  double m = 20.0 / 7.0;
  double rmse = std::sqrt(((1 - m) * (1 - m) + (3 - m) * (3 - m) + 2 * (2 - m) * (2 - m)) / 4);
  CHECK(r["depth"]["rmse"].get<double>() == doctest::Approx(rmse).epsilon(1e-6));
  CHECK_FALSE(r["depth"].contains("loss"));

  HandDataset bad({hand_sample("x", {0, 7, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1}, n1, {0, 0, 0, 0, 0, 0})});
  CHECK_THROWS_WITH_AS(fit_trivial_baseline(bad, specs), doctest::Contains("sample 'x'"), Error);
}

TEST_CASE("beats_trivial: each task's headline metric, higher or lower better, in both directions") {
  nlohmann::json good = {{"semseg", {{"mIoU", 0.30}}}, {"depth", {{"rmse", 0.50}}}};
  nlohmann::json poor = {{"semseg", {{"mIoU", 0.10}}}, {"depth", {{"rmse", 0.90}}}};
  TrivialComparison c = beats_trivial(good, poor);
  REQUIRE(c.rows.size() == 2);
  CHECK(c.all_beat);
  CHECK(c.beaten == 2);
  CHECK(c.rows[0].task == "depth");
  CHECK(c.rows[0].metric == "rmse");
  CHECK(c.rows[0].lower_is_better);
  CHECK(c.rows[0].beats);
  CHECK(c.to_json()["tasks"]["semseg"]["beats"] == true);

  TrivialComparison reversed = beats_trivial(poor, good);
  CHECK_FALSE(reversed.all_beat);
  CHECK(reversed.beaten == 0);
  CHECK_FALSE(reversed.rows[1].beats);
  CHECK(reversed.table().find("NO") != std::string::npos);

  // Mixed: better semseg, worse depth; a tie does not beat.
  nlohmann::json mixed = {{"semseg", {{"mIoU", 0.20}}}, {"depth", {{"rmse", 0.90}}}};
  TrivialComparison m = beats_trivial(mixed, poor);
  CHECK(m.beaten == 1);
  CHECK_FALSE(m.rows[0].beats);  // depth tie
  CHECK(m.rows[1].beats);
  CHECK(m.summary().find("1 of 2") != std::string::npos);

  CHECK_THROWS_WITH_AS(beats_trivial(good, {{"semseg", {{"mIoU", 0.1}}}}), doctest::Contains("'depth'"), Error);
}

TEST_CASE("training: the final evaluation is compared with the trivial baseline and logged") {
  std::string run = fresh_dir("mtinet_predict_train");
  nlohmann::json j = {
      {"model", {{"model", "mtinet"}, {"backbone", "hrnet_tiny"}, {"tasks", "nyud"}, {"seed", 5}}},
      {"data", {{"root", synthetic_root()}, {"size", {64, 64}}, {"threads", 2}, {"augment", false}}},
      {"optimizer", {{"type", "adam"}, {"lr", 1e-3}}},
      {"checkpoint", {{"dir", run}, {"every_epochs", 1}, {"keep_last", 1}}},
      {"epochs", 1},
      {"batch_size", 3},
      {"eval_every", 0},
      {"device", "cpu"},
  };
  Trainer trainer(parse_train_config(j));
  TrainSummary s = trainer.run();
  REQUIRE(s.trivial.contains("tasks"));
  CHECK(s.trivial["tasks"].contains("semseg"));
  CHECK(s.trivial["tasks"]["depth"]["metric"] == "rmse");
  CHECK(s.trivial["tasks"]["depth"]["model"].get<double>() == s.last_eval["depth"]["rmse"].get<double>());
  std::ifstream log(run + "/metrics.jsonl");
  bool logged = false;
  for (std::string line; std::getline(log, line);)
    if (line.find("trivial_comparison") != std::string::npos) logged = true;
  CHECK(logged);
}

TEST_CASE("prepare_image: cubic resize to the input size, then the reference normalisation or none") {
  Tensor grey = Tensor::full({5, 7, 3}, 128.0, DType::U8);
  Tensor x = prepare_image(grey, 32, 64);
  CHECK(x.shape() == Shape{1, 32, 64, 3});
  CHECK(x.data<float>()[0] == doctest::Approx((128.0 / 255.0 - 0.485) / 0.229).epsilon(1e-6));
  CHECK(x.data<float>()[2] == doctest::Approx((128.0 / 255.0 - 0.406) / 0.225).epsilon(1e-6));
  Tensor raw = prepare_image(grey, 32, 64, /*normalize=*/false);
  CHECK(raw.data<float>()[100] == doctest::Approx(128.0).epsilon(1e-6));
}
