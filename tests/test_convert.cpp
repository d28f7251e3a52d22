// `mtinet convert` (train/convert_weights.h, tools/cmd_convert.cpp) both ways with the metadata rules, its
// refusals, and the metadata weights files carry (train/weights_metadata.h): what a trained checkpoint holds and
// the one-line origin made from it.
#include <filesystem>
#include <fstream>

#include "core/safetensors.h"
#include "core/torch_file.h"
#include "model/tasks.h"
#include "scratch.h"
#include "test_util.h"
#include "tiny_training.h"
#include "tools/commands.h"
#include "train/checkpoint.h"
#include "train/convert_weights.h"
#include "train/weights_file.h"
#include "train/weights_metadata.h"

using namespace mtinet;
using namespace mtinet::test;
namespace fs = std::filesystem;

namespace {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

void check_same_tensors(const NamedTensors& got, const NamedTensors& want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    INFO("tensor " << want[i].first);
    CHECK(got[i].first == want[i].first);
    CHECK(got[i].second.dtype() == want[i].second.dtype());
    CHECK(got[i].second.shape() == want[i].second.shape());
    CHECK(got[i].second.to_double_vector() == want[i].second.to_double_vector());
  }
}

int convert(const std::vector<std::string>& args) { return cmd_convert(args); }

const std::string kVersionText = "0.3.0-dev";

}  // namespace

TEST_CASE("convert: an authors'-style checkpoint .pth.tar to safetensors and back to .pth, values unchanged") {
  std::string dir = fresh_dir("mtinet_convert_both_ways");
  const std::string in = fixture_path("torch/checkpoint.pth.tar");
  NamedTensors original = load_torch_weights(in).tensors;  // the state_dict under 'model'
  REQUIRE(original.size() == 7);

  CHECK(convert({in, dir + "/model.safetensors"}) == 0);
  SafetensorsContents st = load_safetensors(dir + "/model.safetensors");
  check_same_tensors(st.tensors, original);
  // What the reader said about the .pth is not carried; the source is.
  CHECK(st.metadata == std::map<std::string, std::string>{{"format", "pt"},
                                                          {"mtinet.converted_from", "checkpoint.pth.tar"}});

  CHECK(convert({dir + "/model.safetensors", dir + "/model.pth"}) == 0);
  TorchFile back = read_torch_file(dir + "/model.pth");
  CHECK(back.format == "zip");
  CHECK(back.root->kind == TorchValue::Kind::Dict);  // a bare state_dict, as torch.save(model.state_dict())
  check_same_tensors(torch_state_dict(back), original);
  CHECK(load_weights(dir + "/model.pth").metadata.at("state_dict_key").empty());

  // A DataParallel legacy file loses its prefix on the way.
  ConvertResult r = convert_weights(fixture_path("torch/dataparallel_legacy.pth"), dir + "/dp.safetensors");
  CHECK(r.input_description == "PyTorch legacy file, state_dict under 'state_dict', 'module.' prefix removed");
  CHECK(r.tensors == 7);
  CHECK(r.elements == 54 + 3 * 5 + 1);
  CHECK(r.metadata_kept == 2);
  CHECK(load_safetensors(dir + "/dp.safetensors").contains("conv.weight"));
}

TEST_CASE("convert: safetensors metadata is kept to safetensors and counted as dropped to .pth") {
  std::string dir = fresh_dir("mtinet_convert_metadata");
  Tensor w = Tensor::from_vector<double>({2, 2}, {1, -2, 3.5, 4});
  std::map<std::string, std::string> meta = {{"format", "pt"}, {kMetaTasks, "semseg,depth"}, {kMetaVersion, "x"}};
  save_safetensors(dir + "/a.safetensors", {{"head.weight", w}}, meta);
  ConvertResult same = convert_weights(dir + "/a.safetensors", dir + "/b.safetensors");
  CHECK(same.input_description == "safetensors");
  CHECK(same.metadata_kept == 3);
  CHECK(load_safetensors(dir + "/b.safetensors").metadata == meta);
  ConvertResult pth = convert_weights(dir + "/a.safetensors", dir + "/a.pth");
  CHECK(pth.output == WeightsFormat::Torch);
  CHECK(pth.metadata_dropped == 2);  // "format" is implied by a .pth
  CHECK(pth.bytes == 32);
  CHECK(load_weights(dir + "/a.pth").at("head.weight").to_double_vector() == std::vector<double>{1, -2, 3.5, 4});
}

TEST_CASE("convert: refuses unknown extensions, writing over its input, and an existing output without --force") {
  std::string dir = fresh_dir("mtinet_convert_refusals");
  const std::string in = dir + "/model.safetensors";
  save_safetensors(in, {{"w", Tensor::from_vector<float>({1}, {2.0f})}});
  const auto bytes_of = [](const std::string& p) {
    std::ifstream f(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
  };
  const std::string before = bytes_of(in);

  CHECK_THROWS_WITH_AS(convert({in, dir + "/model.bin"}),
                       doctest::Contains("cannot tell the output format from the name"), Error);
  CHECK_FALSE(fs::exists(dir + "/model.bin"));
  CHECK_THROWS_WITH_AS(convert({in, in}), doctest::Contains("is the input file itself"), Error);
  CHECK_THROWS_WITH_AS(convert({in, dir + "/../" + fs::path(dir).filename().string() + "/model.safetensors"}),
                       doctest::Contains("is the input file itself"), Error);
  CHECK_THROWS_WITH_AS(convert({in, dir + "/model.safetensors", "--force"}),
                       doctest::Contains("is the input file itself"), Error);
  CHECK(bytes_of(in) == before);

  CHECK(convert({in, dir + "/out.PTH"}) == 0);  // extensions in any case
  CHECK_THROWS_WITH_AS(convert({in, dir + "/out.PTH"}), doctest::Contains("exists: remove it or pass --force"),
                       Error);
  CHECK(convert({in, dir + "/out.PTH", "--force"}) == 0);
  CHECK(convert({in}) == 2);  // usage
  CHECK(convert({"--help"}) == 0);
  CHECK_THROWS_WITH_AS(convert({dir + "/missing.pth", dir + "/x.safetensors"}),
                       doctest::Contains("missing.pth"), Error);
  for (const char* left : {"/x.safetensors", "/x.safetensors.tmp", "/model.bin.tmp"})
    CHECK_FALSE(fs::exists(dir + left));
}

TEST_CASE("weights metadata: the config, model and tasks, and the one line made from them") {
  TrainConfig cfg = parse_train_config(nlohmann::json{{"model", {{"model", "mtinet"}, {"tasks", "nyud"}}}});
  auto meta = weights_metadata(cfg, nyud_tasks());
  CHECK(meta.at("format") == "pt");
  CHECK(meta.at(kMetaTasks) == "semseg,depth");
  CHECK(meta.count(kMetaAuxiliary) == 0);
  CHECK(meta.at(kMetaVersion) == kVersionText);
  CHECK(parse_train_config(nlohmann::json::parse(meta.at(kMetaConfig))).model.tasks == "nyud");
  SafetensorsContents file;
  file.metadata = meta;
  CHECK(describe_weights_origin(file) ==
        "trained as MTI-Net HRNet-W18-small-v2 NYUD tasks semseg,depth by mtinet " + kVersionText);

  TrainConfig aux = parse_train_config(nlohmann::json{
      {"model", {{"model", "padnet"}, {"tasks", "nyud_aux"}, {"backbone", "hrnet_w48"}}}});
  file.metadata = weights_metadata(aux, nyud_aux_tasks());
  CHECK(describe_weights_origin(file) == "trained as PAD-Net HRNet-W48 NYUD tasks semseg,depth (auxiliary "
                                         "semseg,normals,edge,depth) by mtinet " + kVersionText);

  file.metadata = {{"format", "pt"}};  // PyTorch's, or an older mtinet's
  CHECK(describe_weights_origin(file).empty());
  file.metadata = {{kMetaModel, "{not json"}, {kMetaTasks, "sal"}};  // damaged: shown, never thrown
  CHECK(describe_weights_origin(file) == "trained as {not json tasks sal");
}

TEST_CASE("weights metadata: a trained checkpoint carries it, and keeps it through convert to safetensors") {
  std::string dir = fresh_dir("mtinet_weights_metadata_run");
  TrainConfig cfg = tiny_config(dir);
  cfg.max_steps = 4;  // one epoch: one checkpoint
  Trainer(cfg).run();
  const std::string weights = checkpoint_paths(dir, 4).weights;
  SafetensorsContents w = load_weights(weights);
  CHECK(w.metadata.at(kMetaTasks) == "semseg,depth");
  CHECK(nlohmann::json::parse(w.metadata.at(kMetaConfig)) == cfg.source);
  CHECK(nlohmann::json::parse(w.metadata.at(kMetaModel)).at("backbone") == "hrnet_w18_small_v2");
  CHECK(describe_weights_origin(w) ==
        "trained as MTI-Net HRNet-W18-small-v2 NYUD tasks semseg,depth by mtinet " + kVersionText);

  REQUIRE(convert({weights, dir + "/copy.safetensors"}) == 0);
  SafetensorsContents copy = load_safetensors(dir + "/copy.safetensors");
  CHECK(copy.metadata == w.metadata);
  CHECK(describe_weights_origin(copy) == describe_weights_origin(w));
  REQUIRE(convert({weights, dir + "/model.pth"}) == 0);
  SafetensorsContents pth = load_weights(dir + "/model.pth");
  check_same_tensors(pth.tensors, w.tensors);
  CHECK(describe_weights_origin(pth).empty());  // .pth keeps no metadata
}
