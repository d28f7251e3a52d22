// load_weights: one entry point for weights files, whatever wrote them (train/weights_file.h).
#include <doctest/doctest.h>

#include "core/safetensors.h"
#include "core/torch_file.h"
#include "scratch.h"
#include "test_util.h"
#include "train/checkpoint.h"
#include "train/weights_file.h"

using namespace mtinet;
using namespace mtinet::test;

TEST_CASE("load_weights reads PyTorch checkpoints by content, whatever the name, like load_torch_weights") {
  for (const char* name : {"torch/checkpoint.pth.tar", "torch/dataparallel_legacy.pth"}) {
    CAPTURE(name);
    SafetensorsContents ours = load_weights(fixture_path(name));
    SafetensorsContents direct = load_torch_weights(fixture_path(name));
    REQUIRE(ours.tensors.size() == direct.tensors.size());
    REQUIRE(!ours.tensors.empty());
    for (size_t i = 0; i < ours.tensors.size(); ++i) {
      CHECK(ours.tensors[i].first == direct.tensors[i].first);
      CHECK(ours.tensors[i].second.to_double_vector() == direct.tensors[i].second.to_double_vector());
    }
    CHECK(ours.metadata.at("format") == "pt");
  }
}

TEST_CASE("load_weights reads safetensors, and refuses a training state file naming the weights beside it") {
  std::string dir = fresh_dir("weights_file");
  Tensor w = Tensor::from_vector<double>({2, 2}, {1, 2, 3, 4}).to(DType::F32);
  save_safetensors(dir + "/model.safetensors", {{"conv.weight", w}});
  SafetensorsContents plain = load_weights(dir + "/model.safetensors");
  REQUIRE(plain.tensors.size() == 1);
  CHECK(plain.tensors[0].second.to_double_vector() == std::vector<double>{1, 2, 3, 4});

  CheckpointPaths paths = checkpoint_paths(dir, 12);
  write_training_state(paths.state, TrainingState{}, "{}");
  CHECK_THROWS_WITH_AS(load_weights(paths.state), doctest::Contains("is a training state file"), Error);
  CHECK_THROWS_WITH_AS(load_weights(paths.state), doctest::Contains(paths.weights.c_str()), Error);
}
