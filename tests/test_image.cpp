// Image decode/encode: PNG round trips (8-bit grey and RGB), 16-bit PNG, JPEG, corrupt and missing files.
#include <fstream>

#include "data/image.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::test;

TEST_CASE("PNG round trip, RGB and grey, and channel conversion") {
  Tensor img = Tensor::empty({5, 7, 3}, DType::U8);
  for (int64_t i = 0; i < img.numel(); ++i) img.data<uint8_t>()[i] = uint8_t((i * 37) % 256);
  save_png("/tmp/mtinet_rgb.png", img);
  Tensor back = load_image("/tmp/mtinet_rgb.png");
  CHECK(back.shape() == img.shape());
  CHECK(back.to_double_vector() == img.to_double_vector());
  Tensor grey = load_image("/tmp/mtinet_rgb.png", 1);
  CHECK(grey.shape() == Shape{5, 7, 1});
}

TEST_CASE("16-bit PNG keeps 16-bit values and JPEG decodes") {
  Tensor d16 = load_image(fixture_path("images/depth16.png"));
  CHECK(d16.dtype() == DType::I32);
  CHECK(d16.shape() == Shape{4, 6, 1});
  std::vector<double> v = d16.to_double_vector();
  for (size_t i = 0; i < v.size(); ++i) CHECK(v[i] == double(i * 2500));  // written by tools/golden/image_samples.py
  Tensor jpg = load_image(fixture_path("images/gradient.jpg"));
  CHECK(jpg.shape() == Shape{16, 24, 3});
  // A smooth horizontal red gradient survives JPEG within a few levels.
  CHECK(std::abs(double(jpg.data<uint8_t>()[(8 * 24 + 12) * 3]) - 12 * 10) <= 6);
}

TEST_CASE("corrupt and missing images give errors naming the file") {
  {
    std::ofstream f("/tmp/mtinet_corrupt.png", std::ios::binary);
    f << "\x89PNG\r\n\x1a\n this is not really a png";
  }
  CHECK_THROWS_WITH_AS(load_image("/tmp/mtinet_corrupt.png"), doctest::Contains("/tmp/mtinet_corrupt.png"), Error);
  CHECK_THROWS_WITH_AS(load_image("/nonexistent/a.jpg"), doctest::Contains("/nonexistent/a.jpg"), Error);
  CHECK_THROWS_AS(save_png("/tmp/x.png", Tensor::zeros({2, 2, 3}, DType::F32)), Error);
}
