// Colour maps: known palette entries, depth ramp ends, normal-map encoding.
#include "data/colormap.h"
#include "test_util.h"

using namespace mtinet;

TEST_CASE("label colours follow the VOC palette, ignore is white") {
  Tensor l = Tensor::from_vector<int64_t>({1, 4}, {0, 1, 15, 255});
  std::vector<double> c = colorize_labels(l).to_double_vector();
  CHECK(std::vector<double>(c.begin(), c.begin() + 3) == std::vector<double>{0, 0, 0});
  CHECK(std::vector<double>(c.begin() + 3, c.begin() + 6) == std::vector<double>{128, 0, 0});
  CHECK(std::vector<double>(c.begin() + 6, c.begin() + 9) == std::vector<double>{192, 128, 128});  // VOC 'person'
  CHECK(std::vector<double>(c.begin() + 9, c.end()) == std::vector<double>{255, 255, 255});
}

TEST_CASE("depth ramp: nearest bright yellow, farthest dark purple, invalid black") {
  Tensor d = Tensor::from_vector<float>({1, 3}, {1.0f, 5.0f, 0.0f});
  std::vector<double> c = colorize_depth(d).to_double_vector();
  CHECK(c[0] == 253);  // near: yellow (0.993, 0.906, 0.144)
  CHECK(c[2] == 37);
  CHECK(c[3] == 68);   // far: purple (0.267, 0.005, 0.329)
  CHECK(c[5] == 84);
  CHECK(std::vector<double>(c.begin() + 6, c.end()) == std::vector<double>{0, 0, 0});
}

TEST_CASE("normals encode (n+1)/2 and probabilities map to grey") {
  Tensor n = Tensor::from_vector<float>({1, 1, 3}, {-1, 0, 1});
  CHECK(colorize_normals(n).to_double_vector() == std::vector<double>{0, 128, 255});
  CHECK(grey_map(Tensor::from_vector<float>({1, 2}, {0.0f, 1.0f})).to_double_vector() == std::vector<double>{0, 255});
  CHECK_THROWS_AS(colorize_normals(Tensor::zeros({2, 2, 1})), Error);
}
