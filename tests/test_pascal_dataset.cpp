// The PASCAL-Context reader on a dataset written here by hand (every label value spelled out), its errors, the
// loader's PASCAL rules (human parts as class maps, images without people ignored after augmentation), the
// reference's PASCAL augmentation, and the synthetic PASCAL dataset read end to end.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "data/dataset_factory.h"
#include "data/image.h"
#include "data/loader.h"
#include "data/mat_write.h"
#include "data/pascal.h"
#include "data/synth_pascal.h"
#include "scratch.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::test;
namespace fs = std::filesystem;

namespace {

Tensor u8(const Shape& shape, std::vector<uint8_t> v) {
  Tensor t = Tensor::empty(shape, DType::U8);
  std::copy(v.begin(), v.end(), t.data<uint8_t>());
  return t;
}

std::vector<float> values_of(const Tensor& t) {
  return std::vector<float>(t.data<float>(), t.data<float>() + t.numel());
}

// Two 2x3 samples: "a" with a person (head at (0, 0), torso at (0, 1)), "b" without people.
std::string make_tiny_pascal(const std::string& name) {
  std::string root = fresh_dir(name);
  for (const char* d : {"JPEGImages", "ImageSets/Context", "semseg/pascal-context", "human_parts",
                        "pascal-context/trainval", "normals_distill", "sal_distill"})
    fs::create_directories(root + "/" + d);
  for (const std::string id : {"a", "b"}) {
    save_png(root + "/JPEGImages/" + id + ".png", u8({2, 3, 3}, std::vector<uint8_t>(18, id == "a" ? 40 : 80)));
    save_png(root + "/semseg/pascal-context/" + id + ".png", u8({2, 3, 1}, {0, 15, 255, 20, 1, 0}));
    save_png(root + "/sal_distill/" + id + ".png", u8({2, 3, 1}, {0, 127, 128, 255, 200, 50}));
    std::vector<uint8_t> nrm;
    for (int p = 0; p < 6; ++p) nrm.insert(nrm.end(), {255, 0, 128});
    save_png(root + "/normals_distill/" + id + ".png", u8({2, 3, 3}, nrm));
    // person, person, sky / wall, wall, wall
    write_mat(root + "/pascal-context/trainval/" + id + ".mat",
              {{"LabelMap", mat_uint16({2, 3}, {284, 284, 360, 440, 440, 440})}});
    std::vector<MatValue> objects;
    if (id == "a") {
      MatValue parts = mat_struct({1, 2}, {"part_name", "mask"},
                                  {mat_string("head"), mat_uint8({2, 3}, {1, 0, 0, 0, 0, 0}), mat_string("torso"),
                                   mat_uint8({2, 3}, {0, 1, 0, 0, 0, 0})});
      objects = {mat_string("person"), mat_double({1, 1}, {15}), mat_uint8({2, 3}, {1, 1, 0, 0, 0, 0}), parts};
    }
    int64_t n = id == "a" ? 1 : 0;
    write_mat(root + "/human_parts/" + id + ".mat",
              {{"anno", mat_struct({1, 1}, {"imname", "objects"},
                                   {mat_string(id), mat_struct({n, n}, {"class", "class_ind", "mask", "parts"},
                                                               objects)})}});
  }
  std::ofstream(root + "/ImageSets/Context/train.txt") << "a\nb\n";
  return root;
}

// doctest's Contains takes C strings; the expected messages here are built with std::string.
doctest::Contains has(const std::string& text) { return doctest::Contains(text.c_str()); }

const std::vector<std::string> kAllTasks = {"semseg", "human_parts", "sal", "normals", "edge"};

// Removes a scratch dataset when the test ends, pass or fail: the disk is shared.
struct RemovedAtExit {
  std::string dir;
  ~RemovedAtExit() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

}  // namespace

TEST_CASE("pascal dataset: every task of a hand-written sample, as the reference reads it") {
  std::string root = make_tiny_pascal("mtinet_pascal_tiny");
  RemovedAtExit cleanup{root};
  PascalDataset ds(root, "train", kAllTasks);
  REQUIRE(ds.size() == 2);
  CHECK(ds.name() == "pascal:train");
  Sample s = ds.load(0);
  CHECK(s.id == "a");
  CHECK(values_of(s.fields.at("image").map) == std::vector<float>(18, 40.0f));
  CHECK(values_of(s.fields.at("semseg").map) == std::vector<float>{0, 15, 255, 20, 1, 0});  // as stored
  CHECK(values_of(s.fields.at("sal").map) == std::vector<float>{0, 0, 1, 1, 1, 0});        // > 0.5 * 255
  CHECK(values_of(s.fields.at("human_parts").map) == std::vector<float>{1, 2, 0, 0, 0, 0});
  // The LabelMap is boundary everywhere in a 2x3 image (e.g. (0, 2), sky: up and down reflect to the wall,
  // 440 + 440 + 284 + 284 - 4 * 360 = 8); skimage's thinning leaves (1, 0) and (1, 1).
  CHECK(values_of(s.fields.at("edge").map) == std::vector<float>{0, 0, 0, 1, 1, 0});
  std::vector<float> n = values_of(s.fields.at("normals").map);
  float z = 2.0f * 128 / 255.0f - 1.0f;
  CHECK(n == std::vector<float>{1, -1, z, 1, -1, z, 0, 0, 0, 1, -1, z, 1, -1, z, 1, -1, z});  // sky: invalid
  CHECK(s.fields.at("normals").interp == Interp::Cubic);
  CHECK(s.fields.at("human_parts").interp == Interp::Nearest);
  CHECK(values_of(ds.load(1).fields.at("human_parts").map) == std::vector<float>(6, 0.0f));  // ignored later
}

TEST_CASE("pascal dataset: only the requested tasks' files are needed, missing ones are named when it opens") {
  std::string root = make_tiny_pascal("mtinet_pascal_missing");
  RemovedAtExit cleanup{root};
  fs::remove(root + "/human_parts/b.mat");
  fs::remove(root + "/pascal-context/trainval/b.mat");
  PascalDataset sal_only(root, "train", {"semseg", "sal"});
  CHECK(sal_only.load(1).fields.size() == 3);  // image, semseg, sal
  CHECK_THROWS_WITH_AS(PascalDataset(root, "train", {"human_parts"}),
                       has("missing human_parts label '" + root + "/human_parts/b.mat'"), Error);
  // Normals are masked with the LabelMap, so they need the context file even without the edge task.
  CHECK_THROWS_WITH_AS(PascalDataset(root, "train", {"normals"}),
                       has(root + "/pascal-context/trainval/b.mat"), Error);
  CHECK_THROWS_WITH_AS(PascalDataset(root, "val", {"sal"}), doctest::Contains("ImageSets/Context/val.txt"), Error);
  CHECK_THROWS_WITH_AS(PascalDataset(root, "train", {"depth"}), doctest::Contains("no task 'depth'"), Error);
}

TEST_CASE("pascal dataset: bad labels are errors naming the sample, the file and the value") {
  std::string root = make_tiny_pascal("mtinet_pascal_bad");
  RemovedAtExit cleanup{root};
  save_png(root + "/semseg/pascal-context/b.png", u8({2, 3, 1}, {0, 0, 21, 0, 0, 0}));
  PascalDataset ds(root, "train", {"semseg"});
  CHECK_THROWS_WITH_AS(ds.load(1), has("PASCAL sample 'b': '" + root +
                                                     "/semseg/pascal-context/b.png' has label value 21 at pixel "
                                                     "(row 0, col 2)"),
                       Error);
  save_png(root + "/sal_distill/a.png", u8({2, 3, 3}, std::vector<uint8_t>(18, 9)));
  CHECK_THROWS_WITH_AS(PascalDataset(root, "train", {"sal"}).load(0),
                       doctest::Contains("must be a single-channel 8-bit PNG"), Error);
  save_png(root + "/sal_distill/a.png", u8({3, 3, 1}, std::vector<uint8_t>(9, 9)));
  CHECK_THROWS_WITH_AS(PascalDataset(root, "train", {"sal"}).load(0),
                       has("PASCAL sample 'a': '" + root + "/sal_distill/a.png' is 3x3 but its image"),
                       Error);
}

TEST_CASE("pascal loader: human parts batched as class ids, images without people all ignored") {
  std::string root = make_tiny_pascal("mtinet_pascal_loader");
  RemovedAtExit cleanup{root};
  LoaderConfig cfg;
  cfg.batch_size = 2;
  cfg.shuffle = false;
  cfg.augment = false;
  cfg.aug.out_h = 2;
  cfg.aug.out_w = 3;
  Loader loader(std::make_shared<PascalDataset>(root, "train", kAllTasks), cfg);
  loader.start({});
  Batch b;
  REQUIRE(loader.next(b));
  const Tensor& parts = b.tensors.at("human_parts");
  CHECK(parts.dtype() == DType::I64);
  CHECK(parts.shape() == Shape{2, 2, 3});
  std::vector<int64_t> p(parts.data<int64_t>(), parts.data<int64_t>() + 12);
  CHECK(p == std::vector<int64_t>{1, 2, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255});
  CHECK(b.tensors.at("semseg").dtype() == DType::I64);
  CHECK(b.tensors.at("sal").shape() == Shape{2, 2, 3, 1});
  CHECK(b.tensors.at("edge").shape() == Shape{2, 2, 3, 1});
  CHECK(b.tensors.at("normals").shape() == Shape{2, 2, 3, 3});
}

TEST_CASE("pascal loader: augmented batches are the same when resumed mid-epoch, and the factory opens the layout") {
  std::string root = make_tiny_pascal("mtinet_pascal_resume");
  RemovedAtExit cleanup{root};
  LoaderConfig cfg;
  cfg.batch_size = 1;
  cfg.seed = 9;
  cfg.aug = pascal_augment_config();
  cfg.aug.out_h = 4;
  cfg.aug.out_w = 6;
  std::shared_ptr<Dataset> ds = open_dataset("pascal", root, "train", kAllTasks);
  CHECK(ds->name() == "pascal:train");
  Loader straight(ds, cfg), resumed(ds, cfg);
  straight.start({});
  Batch first, second, again;
  REQUIRE(straight.next(first));
  REQUIRE(straight.next(second));
  resumed.start({0, 1});
  REQUIRE(resumed.next(again));
  CHECK(again.ids == second.ids);
  for (const auto& [name, t] : second.tensors) {
    INFO(name);
    const Tensor& u = again.tensors.at(name);
    REQUIRE(u.shape() == t.shape());
    CHECK(std::memcmp(u.raw_data(), t.raw_data(), t.nbytes()) == 0);
  }
  CHECK_THROWS_WITH_AS(open_dataset("cityscapes", root, "train", kAllTasks),
                       doctest::Contains("unknown dataset layout 'cityscapes'"), Error);
}

TEST_CASE("pascal augmentation: the reference's settings and its in-plane rotation of normals") {
  AugmentConfig a = pascal_augment_config();
  CHECK(a.flip);
  CHECK(a.scale_range == std::vector<double>{0.75, 1.25});
  CHECK(a.rotation_range == std::vector<double>{-20, 20});
  CHECK(a.out_h == 512);
  CHECK(a.out_w == 512);
  // The reference: phi = atan2(n0, n1), r = |(n0, n1)|, then (n0, n1) = r (sin(phi + a), cos(phi + a)).
  const double angle = 17.0, rad = angle * M_PI / 180.0;
  Tensor n = Tensor::empty({1, 3, 3}, DType::F32);
  const float v[9] = {0.6f, 0.8f, 0.0f, -0.3f, 0.1f, 0.9f, 0.0f, -1.0f, 0.2f};
  std::copy(v, v + 9, n.data<float>());
  rotate_normals_in_plane(n, angle);
  for (int p = 0; p < 3; ++p) {
    double phi = std::atan2(v[3 * p], v[3 * p + 1]), r = std::hypot(v[3 * p], v[3 * p + 1]);
    CHECK(n.data<float>()[3 * p] == doctest::Approx(std::sin(phi + rad) * r).epsilon(1e-6));
    CHECK(n.data<float>()[3 * p + 1] == doctest::Approx(std::cos(phi + rad) * r).epsilon(1e-6));
    CHECK(n.data<float>()[3 * p + 2] == v[3 * p + 2]);
  }
  // Through scale_rotate: a constant field stays constant inside the image (cubic weights sum to 1), rotated.
  Sample s;
  s.fields["normals"] = {Tensor::empty({16, 16, 3}, DType::F32), Interp::Cubic};
  float* f = s.fields["normals"].map.data<float>();
  for (int p = 0; p < 256; ++p) std::copy(v, v + 3, f + 3 * p);
  scale_rotate(s, 1.1, angle);
  const float* c = s.fields["normals"].map.data<float>() + 3 * (8 * 16 + 8);
  CHECK(c[0] == doctest::Approx(0.6 * std::cos(rad) + 0.8 * std::sin(rad)).epsilon(1e-5));
  CHECK(c[1] == doctest::Approx(0.8 * std::cos(rad) - 0.6 * std::sin(rad)).epsilon(1e-5));
}

TEST_CASE("pascal synth: the synthetic PASCAL_MT layout reads back consistently through the reader and loader") {
  synth::SynthOptions o;
  o.out_dir = fresh_dir("mtinet_pascal_synth");
  RemovedAtExit cleanup{o.out_dir};
  o.count = 8;
  o.height = 48;
  o.width = 64;
  o.seed = 3;
  o.val_fraction = 0.25;
  synth::PascalSynthSummary sum = synth::write_pascal_synth_dataset(o);
  CHECK(sum.train == 6);
  CHECK(sum.val == 2);
  for (const std::string split : {"train", "val"}) {
    PascalDataset ds(o.out_dir, split, kAllTasks);
    for (size_t i = 0; i < ds.size(); ++i) {
      Sample s = ds.load(i);
      INFO(split, " sample ", s.id);
      const float* seg = s.fields.at("semseg").map.data<float>();
      const float* parts = s.fields.at("human_parts").map.data<float>();
      const float* sal = s.fields.at("sal").map.data<float>();
      int64_t px = 48 * 64, edges = 0;
      for (int64_t p = 0; p < px; ++p) {
        CHECK(seg[p] >= 0);
        CHECK(seg[p] <= 20);
        CHECK(parts[p] <= 6);
        if (parts[p] > 0) CHECK(seg[p] == 15);  // parts only on people
        CHECK(sal[p] == (seg[p] != 0 ? 1.0f : 0.0f));  // things are salient, stuff is not
        edges += s.fields.at("edge").map.data<float>()[p] != 0;
      }
      CHECK(edges > 0);  // the horizon at least
    }
  }
  // With seed 3, some images have people and some have none.
  CHECK(sum.images_with_people > 0);
  CHECK(sum.images_with_people < 8);

  // Through the loader with the reference's augmentation (at 64x64): parts 0..6 or an all-255 image.
  LoaderConfig cfg;
  cfg.batch_size = 3;
  cfg.threads = 2;
  cfg.aug = pascal_augment_config();
  cfg.aug.out_h = cfg.aug.out_w = 64;
  Loader loader(std::make_shared<PascalDataset>(o.out_dir, "train", kAllTasks), cfg);
  loader.start({});
  Batch b;
  int batches = 0;
  std::set<int64_t> seen;
  while (loader.next(b)) {
    ++batches;
    const Tensor& parts = b.tensors.at("human_parts");
    REQUIRE(parts.shape() == Shape{3, 64, 64});
    for (int64_t k = 0; k < 3; ++k) {
      const int64_t* p = parts.data<int64_t>() + k * 64 * 64;
      bool ignored = p[0] == 255;
      for (int64_t q = 0; q < 64 * 64; ++q) {
        if (ignored) CHECK(p[q] == 255);
        else CHECK(p[q] <= 6);
        seen.insert(p[q]);
      }
    }
  }
  CHECK(batches == 2);
  CHECK(seen.count(255) == 1);
  CHECK(seen.size() >= 5);  // background, several part groups and ignore
}

TEST_CASE("pascal synth: a sample depends only on (seed, index)") {
  synth::PascalSynthSample a = synth::synthesize_pascal_sample(5, 2, 40, 40);
  synth::PascalSynthSample b = synth::synthesize_pascal_sample(5, 2, 40, 40);
  CHECK(a.rgb == b.rgb);
  CHECK(a.context == b.context);
  CHECK(serialize_mat({{"anno", synth::pascal_part_annotation(a, "x")}}) ==
        serialize_mat({{"anno", synth::pascal_part_annotation(b, "x")}}));
  CHECK(synth::synthesize_pascal_sample(5, 3, 40, 40).rgb != a.rgb);
}
