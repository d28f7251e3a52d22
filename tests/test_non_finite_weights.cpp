// Non-finite weights (issue 9, item 7): refused on load naming the tensor, with the model left as it was; never
// written as a checkpoint, the run stopping with the last finite one named and intact.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "core/error.h"
#include "core/finite_check.h"
#include "kernels/elementwise/elementwise.h"
#include "model/factory.h"
#include "test_util.h"
#include "tiny_training.h"
#include "train/checkpoint.h"
#include "train/weights_file.h"

using namespace mtinet;
using namespace mtinet::test;
namespace fs = std::filesystem;

namespace {
const double kNan = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

// Sets element i of a host tensor of any floating dtype.
void poison(Tensor& t, int64_t i, double v) {
  Tensor f = t.to(DType::F64);
  f.data<double>()[i] = v;
  t = f.to(t.dtype());
}
}  // namespace

TEST_CASE("find_non_finite names the first non-finite tensor, counts its bad elements and skips integers") {
  Tensor ints = Tensor::from_vector<int64_t>({2}, {1, 2});
  Tensor ok = Tensor::from_vector<float>({3}, {1, 2, 3});
  Tensor bad = Tensor::from_vector<float>({6}, {0, 1, 2, 3, 4, 5});
  bad.data<float>()[4] = float(kInf);
  bad.data<float>()[5] = float(kNan);
  CHECK_FALSE(find_non_finite({{"ints", ints}, {"ok", ok}}).has_value());
  std::optional<NonFiniteTensor> r = find_non_finite({{"ok", ok}, {"bad", bad}, {"later", bad}});
  REQUIRE(r.has_value());
  CHECK(r->name == "bad");
  CHECK(r->count == 2);
  CHECK(r->first == 4);
  CHECK(r->value == kInf);
  CHECK(r->describe() == "'bad' holds 2 non-finite values of 6 (the first, element 4, is inf)");
  for (DType dt : {DType::F64, DType::F16, DType::BF16}) {
    CAPTURE(dtype_name(dt));
    Tensor t = ok.to(dt);
    CHECK_FALSE(find_non_finite({{"t", t}}).has_value());
    poison(t, 1, kNan);
    REQUIRE(find_non_finite({{"t", t}}).has_value());
    CHECK(find_non_finite({{"t", t}})->first == 1);
  }
}

TEST_CASE("loading weights refuses a NaN or Inf tensor, naming it, and leaves the model untouched") {
  ModelConfig mc;
  mc.backbone = "hrnet_tiny";
  auto source = build_model(mc);
  mc.seed = 7;  // different initial weights, to see whether anything was copied
  auto target = build_model(mc);
  std::vector<std::pair<std::string, Tensor>> sd = source->state_dict();
  std::vector<std::pair<std::string, Tensor>> before = target->state_dict();
  const std::string victim = "heads.depth.last_layer.0.weight";
  bool found = false;
  for (auto& [name, t] : sd)
    if (name == victim) { poison(t, 3, kNan); found = true; }
  REQUIRE(found);
  std::string path = fresh_dir("mtinet_nonfinite_load") + "/nan.safetensors";
  save_safetensors(path, sd);
  std::string msg = error_message([&] { target->load_state_dict(load_weights(path)); });
  CHECK(msg.find("'" + path + "': tensor '" + victim + "' holds 1 non-finite value") != std::string::npos);
  std::vector<std::pair<std::string, Tensor>> after = target->state_dict();
  REQUIRE(after.size() == before.size());
  CHECK(after.front().second.to_double_vector() == before.front().second.to_double_vector());
  // The same file made finite loads.
  for (auto& [name, t] : sd)
    if (name == victim) poison(t, 3, 0.5);
  save_safetensors(path, sd);
  target->load_state_dict(load_weights(path));
  CHECK(target->state_dict().front().second.to_double_vector() == sd.front().second.to_double_vector());
}

// A BatchNorm running variance set to Inf keeps the training loss finite (training normalises with the batch's
// statistics) and stays Inf through the running-average update: the case a finite loss does not catch.
TEST_CASE("a run whose weights turn non-finite stops without writing a checkpoint and names the last good one") {
  std::string dir = fresh_dir("mtinet_nonfinite_checkpoint");
  TrainConfig first = tiny_config(dir);
  first.max_steps = 4;  // one epoch: the checkpoint at step 4
  Trainer(first).run();
  CheckpointPaths good = checkpoint_paths(dir, 4), never = checkpoint_paths(dir, 8);
  REQUIRE(fs::exists(good.state));

  Trainer t(tiny_config(dir));
  REQUIRE(t.resume("latest") == good.state);
  std::string victim;
  for (const StateEntry& e : t.model().state_entries()) {
    if (e.name.find("running_var") == std::string::npos) continue;
    Tensor v = e.tensor;
    kernels::fill(v, kInf);
    victim = e.name;
    break;
  }
  REQUIRE(!victim.empty());
  std::string msg = error_message([&] { t.run(); });
  INFO(msg);
  CHECK(msg.find("at step 8 the model's tensor '" + victim + "' holds") != std::string::npos);
  CHECK(msg.find("without writing '" + never.weights + "'; last good checkpoint: " + good.state) !=
        std::string::npos);
  CHECK_FALSE(fs::exists(never.weights));
  CHECK_FALSE(fs::exists(never.state));
  // The last good checkpoint is intact and still loads into a fresh run.
  Trainer again(tiny_config(dir));
  CHECK(again.resume("latest") == good.state);
}
