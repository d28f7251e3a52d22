// Models: state_dict names, shapes, dtypes and parameter counts against the reference PyTorch manifests
// (tests/fixtures/reference/*.tsv), input-size checks, the factory, and CPU forward/backward smoke runs.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "core/ops.h"
#include "golden_dump.h"
#include "model/baselines.h"
#include "model/factory.h"
#include "model/hrnet.h"
#include "model/mtinet.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::test;

namespace {

struct ManifestEntry {
  std::string name;
  Shape shape;
  std::string dtype;
};

struct Manifest {
  std::vector<ManifestEntry> entries;
  int64_t trainable_params = -1;  // from the header line
};

Manifest read_manifest(const std::string& file) {
  std::string path = std::string(MTINET_FIXTURE_DIR) + "/reference/" + file + ".tsv";
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot open " << path);
  Manifest m;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line[0] == '#') {
      size_t at = line.find("trainable_params=");
      if (at != std::string::npos) m.trainable_params = std::stoll(line.substr(at + 17));
      continue;
    }
    std::istringstream fields(line);
    ManifestEntry e;
    std::string shape;
    std::getline(fields, e.name, '\t');
    std::getline(fields, shape, '\t');
    std::getline(fields, e.dtype, '\t');
    std::istringstream dims(shape);
    for (std::string d; std::getline(dims, d, ',');) e.shape.push_back(std::stoll(d));
    m.entries.push_back(e);
  }
  REQUIRE(m.trainable_params > 0);
  return m;
}

std::string dtype_code(DType dt) { return dt == DType::I64 ? "I64" : dt == DType::F64 ? "F64" : "F32"; }

// Compares a module's state_dict with a manifest: same names (reporting every missing and extra one), same order,
// and per name the same PyTorch-layout shape and dtype.
void check_against_manifest(const Module& model, const Manifest& manifest) {
  std::vector<std::pair<std::string, Tensor>> ours = model.state_dict();
  std::set<std::string> want, have;
  for (const auto& e : manifest.entries) want.insert(e.name);
  for (const auto& [name, t] : ours) have.insert(name);
  std::ostringstream missing, extra;
  int n_missing = 0, n_extra = 0;
  for (const auto& n : want)
    if (!have.count(n)) missing << "\n  " << n, ++n_missing;
  for (const auto& n : have)
    if (!want.count(n)) extra << "\n  " << n, ++n_extra;
  INFO("missing from our state_dict (" << n_missing << "):" << missing.str());
  INFO("extra in our state_dict (" << n_extra << "):" << extra.str());
  REQUIRE(n_missing == 0);
  REQUIRE(n_extra == 0);
  REQUIRE(ours.size() == manifest.entries.size());  // no duplicate names
  for (size_t i = 0; i < ours.size(); ++i) {
    const ManifestEntry& e = manifest.entries[i];
    INFO("entry " << i << ": ours " << ours[i].first << ", reference " << e.name);
    CHECK(ours[i].first == e.name);
    CHECK(shape_str(ours[i].second.shape()) == shape_str(e.shape));
    CHECK(dtype_code(ours[i].second.dtype()) == e.dtype);
  }
}

}  // namespace

TEST_CASE("HRNet-W18-small-v2 backbone matches the reference manifest and has 3860720 parameters") {
  Rng rng(0);
  HRNet backbone(HRNetConfig::w18_small_v2(), rng);
  Manifest m = read_manifest("hrnet_w18_small_v2_backbone_state_dict");
  check_against_manifest(backbone, m);
  CHECK(m.trainable_params == 3860720);
  CHECK(backbone.parameter_count() == 3860720);
  CHECK(backbone.out_channels() == std::vector<int64_t>{18, 36, 72, 144});
}

TEST_CASE("MTI-Net state_dicts match the reference manifests") {
  struct Case {
    TaskSet tasks;
    const char* manifest;
    int64_t params;
  };
  for (const Case& c : {Case{nyud_tasks(), "mtinet_nyud_state_dict", 8578179},
                        Case{nyud_aux_tasks(), "mtinet_nyud_aux_state_dict", 14838121},
                        Case{pascal_tasks(), "mtinet_pascal_state_dict", 24494171}}) {
    CAPTURE(c.manifest);
    Rng rng(1);
    MtiNet model(c.tasks, HRNetConfig::w18_small_v2(), rng);
    Manifest m = read_manifest(c.manifest);
    check_against_manifest(model, m);
    CHECK(m.trainable_params == c.params);
    CHECK(model.parameter_count() == c.params);
  }
}

TEST_CASE("larger HRNet presets build with the expected branch widths") {
  Rng rng(2);
  HRNet w18(HRNetConfig::w18(), rng);
  HRNet w48(HRNetConfig::w48(), rng);
  CHECK(w48.out_channels() == std::vector<int64_t>{48, 96, 192, 384});
  // Measured values, pinned so that accidental changes show. They agree with the HRNetV2 paper's segmentation
  // model sizes (W18 9.6M, W48 65.9M) once its 1x1 head over the concatenated branches is added.
  CHECK(w18.parameter_count() == 9562260);
  CHECK(w48.parameter_count() == 65325120);
  bool has_stage3_module3 = false, has_stage4_module3 = false;
  for (const auto& e : w18.state_entries()) {
    if (e.name == "stage3.3.branches.2.3.conv2.weight") has_stage3_module3 = true;
    if (e.name.rfind("stage4.3.", 0) == 0) has_stage4_module3 = true;
  }
  CHECK(has_stage3_module3);
  CHECK_FALSE(has_stage4_module3);
}

TEST_CASE("MTI-Net rejects input sizes not divisible by 32 and names the size") {
  Rng rng(3);
  MtiNet model(nyud_tasks(), HRNetConfig::w18_small_v2(), rng);
  Tensor x = Tensor::zeros({1, 48, 64, 3}, DType::F64);
  CHECK_THROWS_WITH_AS(model.forward(x), doctest::Contains("48x64"), Error);
  CHECK_THROWS_WITH_AS(model.forward(Tensor::zeros({1, 64, 70, 3})), doctest::Contains("64x70"), Error);
  CHECK_THROWS_AS(model.forward(Tensor::zeros({1, 64, 64, 4})), Error);
}

TEST_CASE("task sets list the reference tasks in the reference order") {
  CHECK(nyud_tasks().main_names() == std::vector<std::string>{"semseg", "depth"});
  CHECK(nyud_aux_tasks().auxiliary_names() == std::vector<std::string>{"semseg", "normals", "edge", "depth"});
  CHECK(pascal_tasks().main_names() ==
        std::vector<std::string>{"semseg", "human_parts", "sal", "normals", "edge"});
  CHECK(nyud_tasks().spec("semseg").channels == 40);
  CHECK(pascal_tasks().spec("semseg").channels == 21);
  CHECK(pascal_tasks().spec("human_parts").loss_weight == 2.0);
  CHECK(pascal_tasks().spec("edge").pos_weight.value() == 0.95);
  CHECK_FALSE(pascal_tasks().spec("sal").pos_weight.has_value());
  CHECK(nyud_aux_tasks().spec("normals").loss_weight == 10.0);
  CHECK_FALSE(nyud_aux_tasks().is_main("edge"));
  CHECK_THROWS_WITH_AS(nyud_tasks().spec("sal"), doctest::Contains("'sal'"), Error);
  CHECK_THROWS_WITH_AS(task_set_by_name("cityscapes"), doctest::Contains("cityscapes"), Error);
}

TEST_CASE("factory builds every model kind with reference-style names") {
  auto mti = build_model(nlohmann::json{{"model", "mtinet"}, {"tasks", "nyud"}});
  CHECK(mti->parameter_count() == 8578179);
  CHECK(dynamic_cast<MtiNet*>(mti.get()) != nullptr);

  auto base = build_model(nlohmann::json{{"model", "baseline"}, {"tasks", "nyud"}});
  std::set<std::string> names;
  for (const auto& e : base->state_entries()) names.insert(e.name);
  CHECK(names.count("backbone.stage4.1.fuse_layers.3.2.0.1.weight"));
  CHECK(names.count("decoders.semseg.last_layer.3.weight"));
  CHECK(names.count("decoders.depth.last_layer.1.running_var"));
  // Backbone + two heads: (270*270 + 270) + 2*270 + (270*K + K) per head.
  CHECK(base->parameter_count() == 3860720 + 2 * (270 * 270 + 270 + 2 * 270) + (270 * 40 + 40) + (270 + 1));

  auto single = build_model(nlohmann::json{{"model", "single_task"}, {"tasks", "pascal"}, {"task", "human_parts"}});
  names.clear();
  for (const auto& e : single->state_entries()) names.insert(e.name);
  CHECK(names.count("decoder.last_layer.3.bias"));
  CHECK(single->tasks().main_names() == std::vector<std::string>{"human_parts"});
  CHECK(single->parameter_count() == 3860720 + (270 * 270 + 270 + 2 * 270) + (270 * 7 + 7));

  auto pad = build_model(nlohmann::json{{"model", "padnet"}, {"tasks", "nyud"}});
  names.clear();
  for (const auto& e : pad->state_entries()) names.insert(e.name);
  for (const char* n : {"backbone.0.conv1.weight", "backbone.1.last_layer.0.bias",
                        "initial_task_prediction_heads.layers.semseg.0.downsample.0.weight",
                        "initial_task_prediction_heads.layers.depth.1.conv3.weight",
                        "initial_task_prediction_heads.conv_out.depth.bias",
                        "multi_modal_distillation.self_attention.semseg.depth.attention.0.weight",
                        "heads.depth.2.weight", "heads.semseg.1.bn3.num_batches_tracked"}) {
    CAPTURE(n);
    CHECK(names.count(n));
  }
  CHECK_FALSE(names.count("heads.semseg.0.downsample.0.weight"));  // 256 -> 256: no downsample
}

TEST_CASE("factory rejects unknown keys and values and names them") {
  CHECK_THROWS_WITH_AS(build_model(nlohmann::json{{"modle", "mtinet"}}), doctest::Contains("'modle'"), Error);
  CHECK_THROWS_WITH_AS(build_model(nlohmann::json{{"model", "segnet"}}), doctest::Contains("'model'"), Error);
  CHECK_THROWS_WITH_AS(build_model(nlohmann::json{{"backbone", "resnet50"}}), doctest::Contains("'backbone'"),
                       Error);
  CHECK_THROWS_WITH_AS(build_model(nlohmann::json{{"tasks", "coco"}}), doctest::Contains("'tasks'"), Error);
  CHECK_THROWS_WITH_AS(build_model(nlohmann::json{{"model", "single_task"}}), doctest::Contains("'task'"), Error);
  CHECK_THROWS_WITH_AS(build_model(nlohmann::json{{"model", "single_task"}, {"task", "sal"}}),
                       doctest::Contains("'task'"), Error);
  CHECK_THROWS_WITH_AS(build_model(nlohmann::json{{"model", "mtinet"}, {"task", "semseg"}}),
                       doctest::Contains("'task'"), Error);
  CHECK_THROWS_WITH_AS(build_model(nlohmann::json{{"seed", "x"}}), doctest::Contains("'seed'"), Error);
  CHECK_THROWS_AS(build_model(nlohmann::json::array()), Error);
  ModelConfig c = ModelConfig::from_json({{"model", "padnet"}, {"backbone", "hrnet_w48"}, {"seed", 7}});
  CHECK(ModelConfig::from_json(c.to_json()).to_json() == c.to_json());
  CHECK(c.seed == 7);
}

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool all_finite(const Tensor& t) {
  for (double v : t.to_double_vector())
    if (!std::isfinite(v)) return false;
  return true;
}

// Sum of the means of every prediction: a scalar that depends on every output, for backward.
Tensor total_of(const ModelOutput& out) {
  Tensor loss;
  auto add = [&](const Tensor& t) { loss = loss.defined() ? ops::add(loss, ops::mean(t)) : ops::mean(t); };
  for (const auto& [task, y] : out.tasks) add(y);
  for (const auto& scale : out.deep_supervision)
    for (const auto& [task, y] : scale) add(y);
  return loss;
}

// Every parameter got a finite gradient, and a non-zero one except possibly inside an SE block's squeeze MLP: its
// few hidden units (2 at 36 channels) can all sit below the ReLU's kink for a whole batch, which zeroes the first
// Linear's gradient and the second Linear's weight gradient (the second bias always gets one).
void check_gradients(const Module& model) {
  int64_t zero = 0, total = 0;
  for (const StateEntry& e : model.state_entries()) {
    if (e.is_buffer) continue;
    CAPTURE(e.name);
    REQUIRE(e.tensor.grad().defined());
    CHECK(all_finite(e.tensor.grad()));
    bool any = false;
    for (double v : e.tensor.grad().to_double_vector()) any = any || v != 0;
    if (!any) MESSAGE("zero gradient: " << e.name);
    bool dead_se_unit = e.name.find(".squeeze.0.") != std::string::npos || ends_with(e.name, ".squeeze.2.weight");
    zero += !any && !dead_se_unit;
    ++total;
  }
  CHECK(zero == 0);
  CHECK(total > 0);
}

}  // namespace

TEST_CASE("MTI-Net NYUD forward and backward on CPU in f64 at 64x96") {
  Rng rng(10);
  MtiNet model(nyud_tasks(), HRNetConfig::w18_small_v2(), rng);
  model.to(DType::F64);
  Tensor x = random_tensor({2, 64, 96, 3}, rng, -2.0, 2.0);
  ModelOutput out = model.forward(x);
  REQUIRE(out.tasks.size() == 2);
  CHECK(out.tasks.at("semseg").shape() == Shape{2, 64, 96, 40});
  CHECK(out.tasks.at("depth").shape() == Shape{2, 64, 96, 1});
  REQUIRE(out.deep_supervision.size() == 4);
  for (int s = 0; s < 4; ++s) {
    CAPTURE(s);
    int64_t h = 64 / (4 << s), w = 96 / (4 << s);
    REQUIRE(out.deep_supervision[s].size() == 2);
    CHECK(out.deep_supervision[s].at("semseg").shape() == Shape{2, h, w, 40});
    CHECK(out.deep_supervision[s].at("depth").shape() == Shape{2, h, w, 1});
    for (const auto& [task, y] : out.deep_supervision[s]) CHECK(all_finite(y));
  }
  for (const auto& [task, y] : out.tasks) CHECK(all_finite(y));
  total_of(out).backward();
  check_gradients(model);

  // Eval mode uses the running statistics the training pass just updated: different but finite outputs.
  model.eval();
  ModelOutput eval_out = model.forward(x);
  CHECK(all_finite(eval_out.tasks.at("semseg")));
  CHECK(rel_l2(eval_out.tasks.at("semseg"), out.tasks.at("semseg")) > 1e-6);
}

TEST_CASE("baselines and PAD-Net forward and backward on CPU in f64") {
  for (const char* kind : {"baseline", "single_task", "padnet"}) {
    CAPTURE(kind);
    nlohmann::json cfg = {{"model", kind}, {"tasks", "nyud_aux"}, {"seed", 3}};
    if (std::string(kind) == "single_task") cfg["task"] = "depth";
    auto model = build_model(cfg);
    model->to(DType::F64);
    Rng rng(11);
    Tensor x = random_tensor({2, 40, 56, 3}, rng, -2.0, 2.0);  // no divisibility needed
    ModelOutput out = model->forward(x);
    for (const TaskSpec& t : model->tasks().main) {
      CAPTURE(t.name);
      CHECK(out.tasks.at(t.name).shape() == Shape{2, 40, 56, t.channels});
      CHECK(all_finite(out.tasks.at(t.name)));
    }
    if (std::string(kind) == "padnet") {
      REQUIRE(out.deep_supervision.size() == 1);
      CHECK(out.deep_supervision[0].size() == 4);
      CHECK(out.deep_supervision[0].at("normals").shape() == Shape{2, 10, 14, 3});
    } else {
      CHECK(out.deep_supervision.empty());
    }
    total_of(out).backward();
    check_gradients(*model);
  }
}

TEST_CASE("FPM with the paper's grouping differs from the reference grouping and has correct input gradients") {
  const std::vector<std::string> aux{"semseg", "depth"};
  Rng rng_a(21), rng_b(21);
  FeaturePropagation reference(aux, 16, rng_a, FpmGrouping::AdjacentChannels);
  FeaturePropagation paper(aux, 16, rng_b, FpmGrouping::AcrossTasks);
  reference.to(DType::F64);
  paper.to(DType::F64);
  Rng rng(22);
  Tensor fs = random_tensor({2, 3, 3, 16}, rng), fd = random_tensor({2, 3, 3, 16}, rng);
  {
    NoGradGuard no_grad;
    auto a = reference.forward({{"semseg", fs}, {"depth", fd}});
    auto b = paper.forward({{"semseg", fs}, {"depth", fd}});
    CHECK(a.at("depth").shape() == Shape{2, 3, 3, 16});
    CHECK(rel_l2(a.at("semseg"), b.at("semseg")) > 1e-6);  // same weights (same seed), different mask
  }
  fs.set_requires_grad(true);
  fd.set_requires_grad(true);
  gradcheck(
      [&](const std::vector<Tensor>& in) {
        auto out = paper.forward({{"semseg", in[0]}, {"depth", in[1]}});
        return ops::concat_channels({out.at("semseg"), out.at("depth")});
      },
      {fs, fd});
}

TEST_CASE("factory fpm_grouping selects the FPM mask and is checked") {
  auto m = build_model(nlohmann::json{{"model", "mtinet"}, {"fpm_grouping", "paper"}});
  CHECK(m->parameter_count() == 8578179);  // same parameters, different computation
  CHECK_THROWS_WITH_AS(build_model(nlohmann::json{{"fpm_grouping", "rows"}}), doctest::Contains("'fpm_grouping'"),
                       Error);
  CHECK_THROWS_WITH_AS(build_model(nlohmann::json{{"model", "padnet"}, {"fpm_grouping", "paper"}}),
                       doctest::Contains("'fpm_grouping'"), Error);
}

TEST_CASE("write_golden_dump writes outputs and the loss and every gradient in PyTorch layouts") {
  auto model = build_model(nlohmann::json{{"model", "single_task"}, {"tasks", "nyud"}, {"task", "depth"}});
  model->to(DType::F64);
  Rng rng(31);
  Tensor x = random_tensor({2, 3, 32, 32}, rng);
  const std::string path = "/tmp/mtinet_test_models_golden_dump.safetensors";
  write_golden_dump(*model, x, path);
  SafetensorsContents dump = load_safetensors(path);
  const Tensor& y = dump.at("out.depth");
  CHECK(y.shape() == Shape{2, 1, 32, 32});
  double mean_sq = 0;
  for (double v : y.to_double_vector()) mean_sq += v * v / double(y.numel());
  CHECK(dump.at("loss").item() == doctest::Approx(mean_sq).epsilon(1e-12));
  CHECK(dump.at("grad.input").shape() == Shape{2, 3, 32, 32});
  CHECK(dump.at("grad.backbone.conv1.weight").shape() == Shape{64, 3, 3, 3});
  CHECK(dump.at("grad.decoder.last_layer.3.weight").shape() == Shape{1, 270, 1, 1});
  CHECK(dump.tensors.size() == 3 + model->parameters().size());
  std::remove(path.c_str());
}

TEST_CASE("load_hrnet_pretrained drops the classification head and strips prefixes") {
  Rng rng_a(41), rng_b(42);
  HRNet source(HRNetConfig::w18_small_v2(), rng_a), target(HRNetConfig::w18_small_v2(), rng_b);
  SafetensorsContents file;
  file.source = "imagenet.safetensors";
  for (auto& [name, t] : source.state_dict()) {
    if (name.find("num_batches_tracked") != std::string::npos) continue;  // absent from old checkpoints
    file.tensors.emplace_back("module." + name, t);
  }
  file.tensors.emplace_back("incre_modules.0.0.conv1.weight", Tensor::zeros({32, 18, 1, 1}));
  file.tensors.emplace_back("classifier.weight", Tensor::zeros({1000, 2048}));
  LoadReport r = load_hrnet_pretrained(target, file);
  CHECK(r.loaded.size() == 432 + 2 * 144);  // 432 parameters + running mean/var of 144 BatchNorms
  auto a = source.state_dict(), b = target.state_dict();
  for (size_t i = 0; i < a.size(); ++i) {
    CAPTURE(a[i].first);
    CHECK(a[i].second.to_double_vector() == b[i].second.to_double_vector());
  }

  file.tensors.erase(file.tensors.begin() + 3);  // module.bn1.running_mean
  file.tensors.emplace_back("fc.weight", Tensor::zeros({2}));
  try {
    load_hrnet_pretrained(target, file);
    FAIL("incomplete checkpoint accepted");
  } catch (const Error& e) {
    std::string msg = e.what();
    CHECK(msg.find("bn1.running_mean") != std::string::npos);
    CHECK(msg.find("fc.weight") != std::string::npos);
    CHECK(msg.find("num_batches_tracked") == std::string::npos);
  }
}

TEST_CASE("the tiny HRNet preset runs every model kind quickly") {
  Rng rng(51);
  HRNet tiny(HRNetConfig::tiny(), rng);
  CHECK(tiny.out_channels() == std::vector<int64_t>{8, 16, 32, 64});
  CHECK(tiny.parameter_count() == 224032);
  for (const char* kind : {"mtinet", "padnet", "baseline"}) {
    CAPTURE(kind);
    auto model = build_model(nlohmann::json{{"model", kind}, {"backbone", "hrnet_tiny"}, {"tasks", "pascal"}});
    model->to(DType::F64);
    Tensor x = random_tensor({2, 64, 32, 3}, rng);
    ModelOutput out = model->forward(x);
    CHECK(out.tasks.at("human_parts").shape() == Shape{2, 64, 32, 7});
    total_of(out).backward();
    check_gradients(*model);
  }
}
