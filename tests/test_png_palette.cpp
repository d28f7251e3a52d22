// Indexed PNGs read as palette indices (data/png_palette.h), as PIL's np.array(Image.open(f)) gives them, and the
// PASCAL reader's use of them: VOC-style semseg PNGs, preferred from semseg/VOC12 as the reference does.
#include <filesystem>
#include <fstream>

#include "core/file_io.h"
#include "data/image.h"
#include "data/pascal.h"
#include "data/png_palette.h"
#include "png_writer.h"
#include "scratch.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::test;
namespace fs = std::filesystem;

namespace {
// The first entries of PASCAL VOC's palette: background black, aeroplane dark red, bicycle dark green; and 255,
// the ignore colour (224, 224, 192), at the end of a 256-entry palette.
std::vector<std::array<uint8_t, 3>> voc_palette() {
  std::vector<std::array<uint8_t, 3>> p(256);
  for (int i = 0; i < 256; ++i) p[size_t(i)] = {uint8_t(i), uint8_t(255 - i), 7};  // distinct fillers
  p[0] = {0, 0, 0};
  p[1] = {128, 0, 0};
  p[2] = {0, 128, 0};
  p[255] = {224, 224, 192};
  return p;
}
}  // namespace

TEST_CASE("png palette: indices come back, not colours, even where two indices would look alike in grey") {
  std::vector<uint8_t> png = indexed_png(2, 3, {0, 1, 2, 255, 15, 1}, voc_palette());
  CHECK(png_is_indexed(png.data(), png.size()));
  Tensor t = decode_png_indices(png.data(), png.size(), "seg.png");
  REQUIRE(t.shape() == Shape{2, 3, 1});
  CHECK(std::vector<uint8_t>(t.data<uint8_t>(), t.data<uint8_t>() + 6) == std::vector<uint8_t>{0, 1, 2, 255, 15, 1});
  Tensor grey = Tensor::full({2, 2, 1}, 3.0, DType::U8);
  std::string path = fresh_dir("mtinet_png_palette") + "/grey.png";
  save_png(path, grey);
  std::vector<uint8_t> bytes = read_file_bytes(path);
  CHECK_FALSE(png_is_indexed(bytes.data(), bytes.size()));
  CHECK_THROWS_WITH_AS(decode_png_indices(bytes.data(), bytes.size(), "grey.png"),
                       doctest::Contains("'grey.png' is not an indexed (palette) PNG"), Error);
  fs::remove_all(fs::path(path).parent_path());
}

TEST_CASE("png palette: a colour at two palette entries is an error naming the file and pixel when a pixel uses it") {
  std::vector<std::array<uint8_t, 3>> pal = {{0, 0, 0}, {9, 9, 9}, {9, 9, 9}};
  std::vector<uint8_t> png = indexed_png(1, 3, {0, 0, 2}, pal);
  CHECK_THROWS_WITH_AS(decode_png_indices(png.data(), png.size(), "dup.png"),
                       doctest::Contains("'dup.png': the colour (9, 9, 9) of pixel (row 0, col 2) stands at several"),
                       Error);
  // A shared colour that no pixel uses is no ambiguity.
  std::vector<uint8_t> unused = indexed_png(1, 3, {0, 0, 0}, pal);
  Tensor t = decode_png_indices(unused.data(), unused.size(), "dup.png");
  CHECK(std::vector<uint8_t>(t.data<uint8_t>(), t.data<uint8_t>() + 3) == std::vector<uint8_t>{0, 0, 0});
}

TEST_CASE("pascal semseg: an indexed PNG in semseg/VOC12 is preferred over semseg/pascal-context, as the reference") {
  std::string root = fresh_dir("mtinet_pascal_voc12");
  for (const char* d : {"JPEGImages", "ImageSets/Context", "semseg/pascal-context", "semseg/VOC12"})
    fs::create_directories(root + "/" + d);
  for (const std::string id : {"a", "b"}) {
    save_png(root + "/JPEGImages/" + id + ".png", Tensor::full({2, 3, 3}, 50.0, DType::U8));
    save_png(root + "/semseg/pascal-context/" + id + ".png", Tensor::full({2, 3, 1}, 7.0, DType::U8));
  }
  std::vector<uint8_t> voc = indexed_png(2, 3, {0, 1, 2, 255, 15, 1}, voc_palette());
  write_file_atomic(root + "/semseg/VOC12/a.png", voc.data(), voc.size());
  std::ofstream(root + "/ImageSets/Context/train.txt") << "a\nb\n";
  PascalDataset ds(root, "train", {"semseg"});
  Sample sa = ds.load(0), sb = ds.load(1);  // b has no VOC12 file: its Context one is read
  const Tensor& a = sa.fields.at("semseg").map;
  CHECK(std::vector<float>(a.data<float>(), a.data<float>() + 6) == std::vector<float>{0, 1, 2, 255, 15, 1});
  const Tensor& b = sb.fields.at("semseg").map;
  CHECK(std::vector<float>(b.data<float>(), b.data<float>() + 6) == std::vector<float>(6, 7.0f));
  fs::remove_all(root);
}
