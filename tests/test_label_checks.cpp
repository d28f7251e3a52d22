// Label checks when a NYUD sample is read: out-of-range class ids, non-finite or negative depth, non-finite normals,
// wrong element types and mis-sized labels are refused with the file, the sample id, the value as stored and its
// pixel; a valid dataset loads exactly as before. Each dataset is one 4x5 sample written by the test.
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>

#include "data/image.h"
#include "data/loader.h"
#include "data/npy.h"
#include "data/nyud.h"
#include "scratch.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::test;

namespace {
constexpr int64_t kH = 4, kW = 5;
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN(), kInf = std::numeric_limits<float>::infinity();
const std::vector<std::string> kAllTasks = {"semseg", "depth", "normals", "edge"};

// A .npy with any descr, for element types save_npy does not write (bool); `data` holds the little-endian elements.
void write_raw_npy(const std::string& path, const std::string& descr, const std::string& shape, const void* data,
                   size_t bytes) {
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::ofstream f(path, std::ios::binary);
  f.write("\x93NUMPY\x01\x00", 8);
  uint16_t len = uint16_t(header.size());
  f.write(reinterpret_cast<const char*>(&len), 2);
  f << header;
  f.write(static_cast<const char*>(data), std::streamsize(bytes));
}

// One valid sample 'a0': semseg file values 0, 1, 40 (the extremes), depth with a 0 (invalid) pixel, unit normals,
// a bool edge map.
std::string make_dataset(const std::string& name) {
  std::string root = fresh_dir(name);
  for (const char* d : {"images", "segmentation", "depth", "normals", "edge", "gt_sets"})
    std::filesystem::create_directories(root + "/" + d);
  save_png(root + "/images/a0.png", Tensor::full({kH, kW, 3}, 7.0, DType::U8));
  Tensor seg = Tensor::full({kH, kW, 1}, 1.0, DType::U8);
  seg.data<uint8_t>()[0] = 0;
  seg.data<uint8_t>()[1] = 40;
  save_png(root + "/segmentation/a0.png", seg);
  Tensor depth = Tensor::full({kH, kW}, 2.5, DType::F32);
  depth.data<float>()[3] = 0.0f;
  save_npy(root + "/depth/a0.npy", depth);
  Tensor nrm = Tensor::zeros({kH, kW, 3}, DType::F32);
  for (int64_t k = 2; k < nrm.numel(); k += 3) nrm.data<float>()[k] = 1.0f;
  save_npy(root + "/normals/a0.npy", nrm);
  std::vector<uint8_t> edge(kH * kW, 0);
  edge[6] = 1;
  write_raw_npy(root + "/edge/a0.npy", "|b1", "(4, 5)", edge.data(), edge.size());
  std::ofstream(root + "/gt_sets/train.txt") << "a0\n";
  return root;
}

// A depth map of 2.5 with one element (row r, col c) replaced.
template <class T>
Tensor depth_with(DType dt, int64_t r, int64_t c, T value) {
  Tensor d = Tensor::full({kH, kW}, 2.5, dt);
  d.data<T>()[r * kW + c] = value;
  return d;
}

// The message of the error that loading sample 0 throws ("" when it loads).
std::string load_error(const std::string& root, const std::vector<std::string>& tasks, int64_t classes = 40) {
  try {
    NyudDataset(root, "train", tasks, classes).load(0);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("label checks: a valid NYUD sample loads unchanged") {
  std::string root = make_dataset("mtinet_labels_valid");
  Sample s = NyudDataset(root, "train", kAllTasks).load(0);
  std::vector<double> seg = s.fields.at("semseg").map.to_double_vector();
  CHECK(seg[0] == 255);  // 0 unlabeled -> ignore
  CHECK(seg[1] == 39);   // 40 -> the last class
  CHECK(seg[2] == 0);
  std::vector<double> depth = s.fields.at("depth").map.to_double_vector();
  CHECK(depth[3] == 0);  // 0 = invalid is allowed
  CHECK(depth[4] == 2.5);
  CHECK(s.fields.at("normals").map.to_double_vector()[2] == 1);
  CHECK(s.fields.at("edge").map.to_double_vector()[6] == 1);  // bool edge accepted
  CHECK(s.fields.at("edge").map.shape() == Shape{kH, kW, 1});

  // float64 depth and a uint8 edge map are valid too, and keep their values.
  save_npy(root + "/depth/a0.npy", depth_with<double>(DType::F64, 3, 4, 0.125));
  save_npy(root + "/edge/a0.npy", Tensor::full({kH, kW}, 1.0, DType::U8));
  Sample t = NyudDataset(root, "train", kAllTasks).load(0);
  CHECK(t.fields.at("depth").map.to_double_vector()[19] == 0.125);
  CHECK(t.fields.at("edge").map.to_double_vector()[0] == 1);
}

TEST_CASE("label checks: semseg values out of range are reported as stored, with the file and pixel") {
  std::string root = make_dataset("mtinet_labels_semseg");
  std::string file = root + "/segmentation/a0.png";
  Tensor seg = Tensor::full({kH, kW, 1}, 3.0, DType::U8);
  seg.data<uint8_t>()[2 * kW + 3] = 200;
  save_png(file, seg);
  std::string msg = load_error(root, {"semseg"});
  MESSAGE(msg);
  CHECK(msg.find("sample 'a0'") != std::string::npos);
  CHECK(msg.find("'" + file + "' has label value 200 at pixel (row 2, col 3)") != std::string::npos);
  CHECK(msg.find("0 (unlabeled, ignored) or 1..40 (classes 0..39)") != std::string::npos);

  seg.data<uint8_t>()[2 * kW + 3] = 41;  // one past the last class
  save_png(file, seg);
  CHECK(load_error(root, {"semseg"}).find("label value 41 at pixel (row 2, col 3)") != std::string::npos);
  // 255 is the ignore value after the shift, not in the file: the reference would train on class 254.
  seg.data<uint8_t>()[0] = 255;
  save_png(file, seg);
  msg = load_error(root, {"semseg"});
  CHECK(msg.find("label value 255 at pixel (row 0, col 0)") != std::string::npos);
  CHECK(msg.find("255 is not the ignore value in the file, 0 is") != std::string::npos);

  // The class count is the dataset's: with 13 classes, 14 is out of range and 13 is not.
  Tensor small = Tensor::full({kH, kW, 1}, 13.0, DType::U8);
  save_png(file, small);
  CHECK(load_error(root, {"semseg"}, 13) == "");
  small.data<uint8_t>()[kW] = 14;
  save_png(file, small);
  CHECK(load_error(root, {"semseg"}, 13).find("label value 14 at pixel (row 1, col 0); NYUD segmentation PNGs "
                                              "store 0 (unlabeled, ignored) or 1..13") != std::string::npos);
}

TEST_CASE("label checks: non-finite and negative depth are reported with the file and pixel") {
  std::string root = make_dataset("mtinet_labels_depth");
  std::string file = root + "/depth/a0.npy";
  const std::string rule = "depth must be finite and >= 0 metres (0 marks a pixel without a measurement)";
  struct Case {
    Tensor depth;
    std::string expect;
  };
  std::vector<Case> cases = {
      {depth_with<float>(DType::F32, 1, 4, kNaN), "value nan at pixel (row 1, col 4)"},
      {depth_with<float>(DType::F32, 3, 0, kInf), "value inf at pixel (row 3, col 0)"},
      {depth_with<float>(DType::F32, 0, 2, -0.5f), "value -0.5 at pixel (row 0, col 2)"},
      {depth_with<double>(DType::F64, 2, 2, -std::numeric_limits<double>::infinity()),
       "value -inf at pixel (row 2, col 2)"},
      {depth_with<double>(DType::F64, 2, 1, 1e39), "value 1e+39 (too large for float32) at pixel (row 2, col 1)"},
  };
  for (const Case& c : cases) {
    save_npy(file, c.depth);
    std::string msg = load_error(root, {"depth"});
    INFO(msg);
    CHECK(msg.find("NYUD sample 'a0': '" + file + "' has depth " + c.expect + "; " + rule) != std::string::npos);
  }
  MESSAGE(load_error(root, {"depth"}));
}

TEST_CASE("label checks: non-finite normals are reported with the file, pixel and channel") {
  std::string root = make_dataset("mtinet_labels_normals");
  std::string file = root + "/normals/a0.npy";
  Tensor nrm = Tensor::zeros({kH, kW, 3}, DType::F32);
  nrm.data<float>()[(1 * kW + 2) * 3 + 1] = kNaN;
  save_npy(file, nrm);
  std::string msg = load_error(root, {"normals"});
  MESSAGE(msg);
  CHECK(msg.find("'" + file + "' has normals value nan at pixel (row 1, col 2), channel 1; normals must be finite") !=
        std::string::npos);
  // The edge map is checked too (a float edge map with inf).
  Tensor edge = Tensor::zeros({kH, kW}, DType::F32);
  edge.data<float>()[kW * kH - 1] = kInf;
  save_npy(root + "/edge/a0.npy", edge);
  CHECK(load_error(root, {"edge"}).find("edge/a0.npy' has edge value inf at pixel (row 3, col 4)") !=
        std::string::npos);
}

TEST_CASE("label checks: depth and normals stored as integers or bool are refused, naming the expected dtype") {
  std::string root = make_dataset("mtinet_labels_dtype");
  std::string file = root + "/depth/a0.npy";
  save_npy(file, Tensor::full({kH, kW}, 2500.0, DType::I64));
  std::string msg = load_error(root, {"depth"});
  MESSAGE(msg);
  CHECK(msg.find("NYUD sample 'a0': '" + file + "' stores depth as int64 ('<i8'); expected float32 or float64 "
                 "(depth in metres") != std::string::npos);
  std::vector<uint8_t> ones(kH * kW, 1);
  write_raw_npy(file, "|b1", "(4, 5)", ones.data(), ones.size());
  msg = load_error(root, {"depth"});
  MESSAGE(msg);
  CHECK(msg.find("'" + file + "' stores depth as bool ('|b1'); expected float32 or float64") != std::string::npos);
  save_npy(root + "/normals/a0.npy", Tensor::zeros({kH, kW, 3}, DType::I32));
  CHECK(load_error(root, {"normals"}).find("normals/a0.npy' stores normals as int32 ('<i4'); expected float32 or "
                                           "float64") != std::string::npos);
}

TEST_CASE("label checks: a label whose size differs from its image is refused") {
  std::string root = make_dataset("mtinet_labels_size");
  std::string file = root + "/segmentation/a0.png";
  save_png(file, Tensor::full({kH, kW + 1, 1}, 1.0, DType::U8));
  std::string msg = load_error(root, kAllTasks);
  MESSAGE(msg);
  CHECK(msg.find("NYUD sample 'a0': '" + file + "' is 4x6 but its image '" + root + "/images/a0.png' is 4x5") !=
        std::string::npos);
  save_png(file, Tensor::full({kH, kW, 1}, 1.0, DType::U8));
  save_npy(root + "/normals/a0.npy", Tensor::zeros({kW, kH, 3}, DType::F32));  // transposed
  CHECK(load_error(root, kAllTasks).find("normals/a0.npy' is 5x4 but its image") != std::string::npos);
  save_npy(root + "/normals/a0.npy", Tensor::zeros({kH, kW, 3}, DType::F32));
  CHECK(load_error(root, kAllTasks) == "");
}

TEST_CASE("label checks: a NaN depth is reported through the loader even where augmentation would crop it away") {
  std::string root = make_dataset("mtinet_labels_loader");
  // The NaN sits in the last column; an output crop of 2x2 from the top-left would never see it.
  save_npy(root + "/depth/a0.npy", depth_with<float>(DType::F32, 3, 4, kNaN));
  auto ds = std::make_shared<NyudDataset>(root, "train", std::vector<std::string>{"depth"});
  LoaderConfig c;
  c.batch_size = 1;
  c.threads = 1;
  c.aug.out_h = 2;
  c.aug.out_w = 2;
  Loader loader(ds, c);
  loader.start({0, 0});
  Batch b;
  CHECK_THROWS_WITH_AS(loader.next(b), doctest::Contains("depth/a0.npy' has depth value nan at pixel (row 3, col 4)"),
                       Error);
}
