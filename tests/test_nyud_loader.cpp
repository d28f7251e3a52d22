// The NYUD reader (label mapping, missing/corrupt/mis-sized files) and the loader (determinism across thread
// counts, exact mid-epoch resume, drop_last, per-epoch shuffles), on a tiny dataset written by the test.
#include <filesystem>
#include <fstream>
#include <memory>

#include "data/image.h"
#include "data/loader.h"
#include "data/npy.h"
#include "data/nyud.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::test;
namespace fs = std::filesystem;

namespace {
// Writes n images of 8x12 where every value encodes the image index, so batches can be traced back to samples.
std::string make_tiny_nyud(const std::string& name, int n) {
  std::string root = (fs::temp_directory_path() / name).string();
  fs::remove_all(root);
  for (const char* d : {"images", "segmentation", "depth", "normals", "edge", "gt_sets"}) fs::create_directories(root + "/" + d);
  std::string train;
  for (int i = 0; i < n; ++i) {
    std::string id = "img" + std::to_string(i);
    Tensor img = Tensor::full({8, 12, 3}, double(10 * i), DType::U8);
    save_png(root + "/images/" + id + ".png", img);
    Tensor seg = Tensor::full({8, 12, 1}, double(i % 3), DType::U8);  // 0 (unlabeled), 1, 2
    save_png(root + "/segmentation/" + id + ".png", seg);
    save_npy(root + "/depth/" + id + ".npy", Tensor::full({8, 12}, 1.0 + i, DType::F32));
    Tensor nrm = Tensor::zeros({8, 12, 3}, DType::F32);
    for (int64_t k = 2; k < nrm.numel(); k += 3) nrm.data<float>()[k] = 1.0f;
    save_npy(root + "/normals/" + id + ".npy", nrm);
    save_npy(root + "/edge/" + id + ".npy", Tensor::zeros({8, 12}, DType::F32));
    train += id + "\n";
  }
  std::ofstream(root + "/gt_sets/train.txt") << train;
  return root;
}

LoaderConfig small_config(int threads) {
  LoaderConfig c;
  c.batch_size = 3;
  c.threads = threads;
  c.seed = 11;
  c.aug.out_h = 8;
  c.aug.out_w = 12;
  return c;
}

std::vector<std::vector<double>> epoch_depths(Loader& loader) {
  std::vector<std::vector<double>> out;
  Batch b;
  while (loader.next(b)) out.push_back(b.tensors.at("depth").to_double_vector());
  return out;
}
}  // namespace

TEST_CASE("NYUD reader maps labels, checks files and sizes") {
  std::string root = make_tiny_nyud("mtinet_nyud_a", 4);
  NyudDataset ds(root, "train", {"semseg", "depth", "normals", "edge"});
  CHECK(ds.size() == 4);
  Sample s = ds.load(1);
  CHECK(s.fields.at("semseg").map.to_double_vector()[0] == 0);    // 1 -> 0
  CHECK(ds.load(0).fields.at("semseg").map.to_double_vector()[0] == 255);  // 0 -> ignore
  CHECK(s.fields.at("depth").map.shape() == Shape{8, 12, 1});
  CHECK(s.fields.at("image").map.to_double_vector()[5] == 10);

  fs::remove(root + "/depth/img2.npy");
  CHECK_THROWS_WITH_AS(NyudDataset(root, "train", {"depth"}), doctest::Contains("depth/img2.npy"), Error);
  NyudDataset no_depth(root, "train", {"semseg"});  // only the tasks in use are required
  CHECK(no_depth.size() == 4);

  save_npy(root + "/edge/img3.npy", Tensor::zeros({8, 10}, DType::F32));
  NyudDataset edge(root, "train", {"edge"});
  CHECK_THROWS_WITH_AS(edge.load(3), doctest::Contains("edge/img3.npy' is 8x10 but its image"), Error);
  { std::ofstream(root + "/images/img1.png") << "garbage"; }
  CHECK_THROWS_WITH_AS(edge.load(1), doctest::Contains("images/img1.png"), Error);
  CHECK_THROWS_WITH_AS(NyudDataset(root, "val", {}), doctest::Contains("gt_sets/val.txt"), Error);
}

TEST_CASE("loader: same batches for 1 and 3 threads, exact resume, drop_last, new order each epoch") {
  std::string root = make_tiny_nyud("mtinet_nyud_b", 10);
  auto ds = std::make_shared<NyudDataset>(root, "train", std::vector<std::string>{"semseg", "depth", "normals"});
  Loader one(ds, small_config(1)), three(ds, small_config(3));
  CHECK(one.batches_per_epoch() == 3);  // 10 samples, batch 3, drop_last
  one.start({0, 0});
  three.start({0, 0});
  auto e0 = epoch_depths(one);
  CHECK(e0.size() == 3);
  CHECK(e0 == epoch_depths(three));
  CHECK(one.state().epoch == 1);
  auto e1 = epoch_depths(one);
  CHECK(e1 != e0);  // reshuffled

  // Resume in the middle of epoch 1 from a saved state.
  Loader resumed(ds, small_config(2));
  resumed.start({1, 1});
  auto tail = epoch_depths(resumed);
  CHECK(tail.size() == 2);
  CHECK(tail[0] == e1[1]);
  CHECK(tail[1] == e1[2]);

  Batch b;
  one.start({0, 0});
  REQUIRE(one.next(b));
  CHECK(b.tensors.at("semseg").dtype() == DType::I64);
  CHECK(b.tensors.at("image").shape() == Shape{3, 8, 12, 3});
  // Normalised image: (v/255 - mean)/std for channel 0 of an image whose pixels are all 10*index.
  double v = b.tensors.at("image").to_double_vector()[0];
  double idx = std::stod(b.ids[0].substr(3));
  CHECK(v == doctest::Approx((10 * idx / 255.0 - 0.485) / 0.229).epsilon(1e-5));
}

TEST_CASE("loader: shards of a global batch read together what one loader reads, augmentations included") {
  std::string root = make_tiny_nyud("mtinet_nyud_shards", 10);
  auto ds = std::make_shared<NyudDataset>(root, "train", std::vector<std::string>{"semseg", "depth", "normals"});
  LoaderConfig whole_cfg = small_config(2);
  whole_cfg.batch_size = 4;
  whole_cfg.aug.flip = true;  // random per sample: a shard must draw what the whole loader draws at that position
  Loader whole(ds, whole_cfg);
  std::vector<std::unique_ptr<Loader>> shards;
  for (int r = 0; r < 2; ++r) {
    LoaderConfig c = whole_cfg;
    c.shards = 2;
    c.shard = r;
    shards.push_back(std::make_unique<Loader>(ds, c));
    CHECK(shards.back()->batches_per_epoch() == whole.batches_per_epoch());  // global batches
  }
  // Epoch 1 from batch 1, as a resume with another number of processes would start.
  whole.start({1, 1});
  for (auto& s : shards) s->start({1, 1});
  Batch w, a, b;
  int batches = 0;
  while (whole.next(w)) {
    REQUIRE(shards[0]->next(a));
    REQUIRE(shards[1]->next(b));
    std::vector<std::string> ids = a.ids;
    ids.insert(ids.end(), b.ids.begin(), b.ids.end());
    CHECK(ids == w.ids);
    std::vector<double> img = a.tensors.at("image").to_double_vector(), img_b = b.tensors.at("image").to_double_vector();
    img.insert(img.end(), img_b.begin(), img_b.end());
    CHECK(img == w.tensors.at("image").to_double_vector());
    ++batches;
  }
  CHECK(batches == 1);
  CHECK(!shards[0]->next(a));
  CHECK(shards[0]->state().epoch == 2);

  LoaderConfig uneven = whole_cfg;
  uneven.batch_size = 3;
  uneven.shards = 2;
  CHECK_THROWS_WITH_AS(Loader(ds, uneven), doctest::Contains("cannot be split into 2 equal shards"), Error);
}

TEST_CASE("loader: a failing sample surfaces as an error naming the file") {
  std::string root = make_tiny_nyud("mtinet_nyud_c", 6);
  auto ds = std::make_shared<NyudDataset>(root, "train", std::vector<std::string>{"depth"});
  { std::ofstream(root + "/depth/img4.npy") << "not numpy"; }
  LoaderConfig c = small_config(2);
  c.shuffle = false;
  Loader loader(ds, c);
  loader.start({0, 0});
  Batch b;
  CHECK(loader.next(b));
  CHECK_THROWS_WITH_AS(loader.next(b), doctest::Contains("depth/img4.npy"), Error);
}
