// A weights file that does not fit the config (issue 9, item 3): a few lines with the counts, the first keys of each
// kind, the config the model was built from and the one the file looks like it came from, instead of every key.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "core/error.h"
#include "model/factory.h"
#include "model/hrnet.h"
#include "model/load_model_weights.h"
#include "model/state_dict_origin.h"
#include "test_util.h"

using namespace mtinet;

namespace {
ModelConfig tiny(const std::string& model, const std::string& tasks, const std::string& task = "") {
  ModelConfig c;
  c.model = model;
  c.backbone = "hrnet_tiny";
  c.tasks = tasks;
  c.task = task;
  return c;
}

SafetensorsContents file_of(const ModelConfig& c, const std::string& name) {
  SafetensorsContents f;
  f.tensors = build_model(c)->state_dict();
  f.source = name;
  return f;
}

size_t lines(const std::string& s) { return size_t(std::count(s.begin(), s.end(), '\n')) + 1; }
}  // namespace

TEST_CASE("the origin of a state_dict is told in config words for every model kind and task set") {
  CHECK(guess_state_dict_origin(file_of(tiny("mtinet", "nyud"), "a")) ==
        "model \"mtinet\", backbone \"hrnet_tiny\", tasks \"nyud\"");
  CHECK(guess_state_dict_origin(file_of(tiny("mtinet", "nyud_aux"), "a")) ==
        "model \"mtinet\", backbone \"hrnet_tiny\", tasks \"nyud_aux\"");
  CHECK(guess_state_dict_origin(file_of(tiny("mtinet", "pascal"), "a")) ==
        "model \"mtinet\", backbone \"hrnet_tiny\", tasks \"pascal\"");
  CHECK(guess_state_dict_origin(file_of(tiny("baseline", "pascal"), "a")) ==
        "model \"baseline\", backbone \"hrnet_tiny\", tasks \"pascal\"");
  CHECK(guess_state_dict_origin(file_of(tiny("padnet", "nyud"), "a")) ==
        "model \"padnet\", backbone \"hrnet_tiny\", tasks \"nyud\"");
  CHECK(guess_state_dict_origin(file_of(tiny("single_task", "pascal", "semseg"), "a")) ==
        "model \"single_task\", backbone \"hrnet_tiny\", task \"semseg\" (21 classes: PASCAL)");
  CHECK(guess_state_dict_origin(file_of(tiny("single_task", "nyud", "depth"), "a")).find("one-channel task") !=
        std::string::npos);
  SafetensorsContents unknown;
  unknown.tensors = {{"foo.weight", Tensor::zeros({2}, DType::F32)}};
  CHECK(guess_state_dict_origin(unknown) == "");
}

TEST_CASE("the backbone variant is told from its widths and depth, also for a bare HRNet file") {
  ModelConfig c = tiny("mtinet", "nyud");
  c.backbone = "hrnet_w18_small_v2";
  CHECK(guess_state_dict_origin(file_of(c, "a")).find("backbone \"hrnet_w18_small_v2\"") != std::string::npos);
  c.backbone = "hrnet_w18";
  CHECK(guess_state_dict_origin(file_of(c, "a")).find("backbone \"hrnet_w18\"") != std::string::npos);
  // The ImageNet classification file: HRNet names without a prefix, plus its classification head.
  Rng rng(1);
  HRNet hrnet(HRNetConfig::w18_small_v2(), rng);
  SafetensorsContents bare;
  bare.tensors = hrnet.state_dict();
  bare.tensors.emplace_back("classifier.weight", Tensor::zeros({1000, 2048}, DType::F32));
  std::string g = guess_state_dict_origin(bare);
  CHECK(g.find("an HRNet backbone alone (backbone \"hrnet_w18_small_v2\", with the ImageNet classification head)") !=
        std::string::npos);
  CHECK(g.find("backbone_weights") != std::string::npos);
}

TEST_CASE("a file of another model fails in a few lines: counts, first keys, both configs") {
  ModelConfig want = tiny("mtinet", "nyud");
  auto model = build_model(want);
  SafetensorsContents other = file_of(tiny("mtinet", "pascal"), "pascal.safetensors");
  std::string msg = test::error_message([&] { load_model_weights(*model, want, other); });
  INFO(msg);
  REQUIRE(!msg.empty());
  CHECK(msg.find("the weights 'pascal.safetensors' do not fit the model of the config (model \"mtinet\", backbone "
                 "\"hrnet_tiny\", tasks \"nyud\")") != std::string::npos);
  CHECK(msg.find("unexpected (the first 4):") != std::string::npos);
  CHECK(msg.find(" more") != std::string::npos);
  CHECK(msg.find("the file looks like model \"mtinet\", backbone \"hrnet_tiny\", tasks \"pascal\"") !=
        std::string::npos);
  CHECK(lines(msg) <= 20);
  // The matching file loads.
  load_model_weights(*model, want, file_of(want, "nyud.safetensors"));
}
