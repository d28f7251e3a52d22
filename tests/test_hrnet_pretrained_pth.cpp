// The ImageNet HRNet classification checkpoint as `backbone_weights` (issue 11, item 3), read from a .pth file that
// PyTorch wrote: tests/fixtures/torch/hrnet_tiny_imagenet.pth (tools/golden/hrnet_classification_pth.py) holds
// hrnet_tiny-shaped tensors under the HRNet-Image-Classification names, plus its classification head. The trainer
// reads backbone_weights as load_weights + load_hrnet_pretrained and reports "<loaded> loaded, <file - loaded>
// skipped (classification head), <missing> counters kept"; this test checks those three numbers and every value.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "model/hrnet.h"
#include "model/state_dict_origin.h"
#include "test_util.h"
#include "tiny_training.h"
#include "train/weights_file.h"

using namespace mtinet;

namespace {

// tools/golden/hrnet_classification_pth.py: every float tensor is a view into one pool of floats, tensor k (file
// order) starting at offset(k, numel); the pool's value i is pool_value(i). Keep these in step with the script.
constexpr int64_t kPoolSize = 36864;
double pool_value(int64_t i) { return double((i * 37) % 2053 - 1026) / 512.0; }
int64_t pool_offset(int64_t k, int64_t numel) { return (k * 977) % (kPoolSize - numel + 1); }

const char* const kHeadPrefixes[] = {"incre_modules.", "downsamp_modules.", "final_layer.", "classifier."};

bool is_head(const std::string& name) {
  for (const char* p : kHeadPrefixes) {
    if (name.rfind(p, 0) == 0) return true;
  }
  return false;
}

// What f writes to stdout (the trainer reports with printf), through a file in `dir`.
template <class F>
std::string captured_stdout(const std::string& dir, F f) {
  const std::string path = dir + "/stdout.txt";
  std::fflush(stdout);
  int saved = ::dup(1), fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  REQUIRE(saved >= 0);
  REQUIRE(fd >= 0);
  ::dup2(fd, 1);
  ::close(fd);
  struct Restore {  // also when f throws, or doctest's own output would vanish
    int saved;
    ~Restore() {
      std::fflush(stdout);
      ::dup2(saved, 1);
      ::close(saved);
    }
  };
  {
    Restore restore{saved};
    f();
  }
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("backbone_weights: the ImageNet HRNet .pth loads into hrnet_tiny exactly, head keys skipped and counted") {
  SafetensorsContents file = load_weights(test::fixture_path("torch/hrnet_tiny_imagenet.pth"));
  CHECK(file.metadata.at("format") == "pt");
  CHECK(file.metadata.at("torch_format") == "zip");
  REQUIRE(file.tensors.size() == 351);  // the script prints the counts: 351 tensors, 86 in the head

  std::map<std::string, int64_t> index;  // name -> position in the file, which fixes its values
  size_t head = 0;
  for (size_t k = 0; k < file.tensors.size(); ++k) {
    index[file.tensors[k].first] = int64_t(k);
    head += is_head(file.tensors[k].first);
  }
  CHECK(head == 86);

  Rng rng(5);
  HRNet backbone(HRNetConfig::tiny(), rng);
  LoadReport r = load_hrnet_pretrained(backbone, file);
  // What the trainer prints for backbone_weights.
  CHECK(r.loaded.size() == 351 - 86);
  CHECK(file.tensors.size() - r.loaded.size() == 86);  // "skipped (classification head)"
  CHECK(r.missing.size() == 53);  // one num_batches_tracked per BatchNorm, absent from the file: "counters kept"
  for (const std::string& m : r.missing) CHECK(m.find("num_batches_tracked") != std::string::npos);
  CHECK(r.unexpected.empty());
  CHECK(r.mismatched.empty());

  // Every backbone tensor holds exactly the values the script wrote, in PyTorch's layout.
  size_t checked = 0;
  for (const auto& [name, t] : backbone.state_dict()) {
    if (name.find("num_batches_tracked") != std::string::npos) continue;
    CAPTURE(name);
    REQUIRE(index.count(name));
    std::vector<double> values = t.to_double_vector();
    const int64_t start = pool_offset(index[name], int64_t(values.size()));
    bool exact = true;
    for (size_t i = 0; i < values.size(); ++i) exact = exact && values[i] == pool_value(start + int64_t(i));
    CHECK(exact);
    ++checked;
  }
  CHECK(checked == 351 - 86);

  // The file is recognised for what it is when given where a whole model's weights go.
  std::string origin = guess_state_dict_origin(file);
  CHECK(origin.find("hrnet_tiny") != std::string::npos);
  CHECK(origin.find("backbone_weights") != std::string::npos);
}

TEST_CASE("backbone_weights in a training config: the trainer loads the .pth and reports the skipped head keys") {
  const std::string weights = test::fixture_path("torch/hrnet_tiny_imagenet.pth");
  const std::string dir = test::fresh_dir("mtinet_backbone_weights_pth");
  TrainConfig cfg = test::tiny_config(dir);
  cfg.model.backbone = "hrnet_tiny";
  cfg.backbone_weights = weights;
  std::unique_ptr<Trainer> trainer;
  std::string out = captured_stdout(dir, [&] { trainer = std::make_unique<Trainer>(cfg); });
  INFO(out);
  CHECK(out.find("backbone weights '" + weights + "': 265 tensors loaded, 86 skipped (classification head), 53 "
                 "counters kept") != std::string::npos);
  SafetensorsContents file = load_weights(weights);
  size_t same = 0;
  for (const auto& [name, t] : trainer->model().backbone().state_dict()) {
    if (name.find("num_batches_tracked") != std::string::npos) continue;
    same += t.to_double_vector() == file.at(name).to_double_vector();
  }
  CHECK(same == 265);
}
