// The PASCAL-Context label rules against hand-computed maps: human parts from PASCAL-Part annotations (the scipy
// fixture and files written here), edges from a LabelMap (the reference's Laplacian and skimage's thinning), the
// normals' class mask, and the all-ignore rule for images without people.
#include <cmath>
#include <cstring>

#include "data/mat_write.h"
#include "data/pascal_edges.h"
#include "data/pascal_normals.h"
#include "data/pascal_parts.h"
#include "eval/edge_thinning.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::test;

namespace {

std::vector<float> values_of(const Tensor& t) {
  return std::vector<float>(t.data<float>(), t.data<float>() + t.numel());
}

std::vector<float> rows(std::initializer_list<std::initializer_list<float>> r) {
  std::vector<float> out;
  for (auto row : r) out.insert(out.end(), row);
  return out;
}

std::vector<uint8_t> box(int h, int w, int r0, int r1, int c0, int c1) {
  std::vector<uint8_t> m(size_t(h * w), 0);
  for (int r = r0; r < r1; ++r)
    for (int c = c0; c < c1; ++c) m[size_t(r * w + c)] = 1;
  return m;
}

// anno with the given objects: {class_ind, mask, parts as (name, mask)}.
struct Obj {
  double cls;
  std::vector<uint8_t> mask;
  std::vector<std::pair<std::string, std::vector<uint8_t>>> parts;
};
MatFile annotation(int h, int w, const std::vector<Obj>& objs) {
  std::vector<MatValue> fields;
  for (const Obj& o : objs) {
    std::vector<MatValue> pf;
    for (const auto& [name, m] : o.parts) {
      pf.push_back(mat_string(name));
      pf.push_back(mat_uint8({h, w}, m));
    }
    int64_t np = int64_t(o.parts.size());
    fields.push_back(mat_string(o.cls == 15 ? "person" : "cat"));
    fields.push_back(mat_double({1, 1}, {o.cls}));
    fields.push_back(mat_uint8({h, w}, o.mask));
    fields.push_back(mat_struct({np ? 1 : 0, np}, {"part_name", "mask"}, pf));
  }
  int64_t n = int64_t(objs.size());
  MatValue objects = mat_struct({n ? 1 : 0, n}, {"class", "class_ind", "mask", "parts"}, fields);
  std::vector<uint8_t> bytes =
      serialize_mat({{"anno", mat_struct({1, 1}, {"imname", "objects"}, {mat_string("x"), objects})}});
  return parse_mat(bytes.data(), bytes.size(), "parts.mat");
}

const LabelSource kSrc{"parts.mat", "x", "PASCAL"};

}  // namespace

TEST_CASE("pascal parts: the reference's 6 groups of PASCAL-Part person parts") {
  for (const char* p : {"hair", "head", "lear", "lebrow", "leye", "mouth", "nose", "rear", "rebrow", "reye"})
    CHECK(human_part_group(p) == 1);
  CHECK(human_part_group("neck") == 2);
  CHECK(human_part_group("torso") == 2);
  CHECK(human_part_group("luarm") == 3);
  CHECK(human_part_group("ruarm") == 3);
  for (const char* p : {"lhand", "llarm", "rhand", "rlarm"}) CHECK(human_part_group(p) == 4);
  CHECK(human_part_group("luleg") == 5);
  CHECK(human_part_group("ruleg") == 5);
  for (const char* p : {"lfoot", "llleg", "rfoot", "rlleg"}) CHECK(human_part_group(p) == 6);
  CHECK(human_part_group("lwing") == -1);  // a bird's part
}

TEST_CASE("pascal parts: the scipy-written PASCAL-Part fixture gives head 1, torso 2, lower arm 4, the dog nothing") {
  // The fixture (tools/golden/mat_samples.py): a person with head rows 0-1 cols 2-3, torso rows 2-3 cols 2-3,
  // llarm rows 2-3 col 1, and a dog (no parts) at rows 3-5 cols 5-7, in a 6x8 image.
  MatFile f = read_mat(fixture_path("mat/pascal_part.mat"));
  Tensor m = human_parts_label(f, 6, 8, {fixture_path("mat/pascal_part.mat"), "2008_000003", "PASCAL"});
  CHECK(m.shape() == Shape{6, 8, 1});
  CHECK(values_of(m) == rows({{0, 0, 1, 1, 0, 0, 0, 0},
                              {0, 0, 1, 1, 0, 0, 0, 0},
                              {0, 4, 2, 2, 0, 0, 0, 0},
                              {0, 4, 2, 2, 0, 0, 0, 0},
                              {0, 0, 0, 0, 0, 0, 0, 0},
                              {0, 0, 0, 0, 0, 0, 0, 0}}));
}

TEST_CASE("pascal parts: later parts and later people overwrite, people without parts paint nothing") {
  const int h = 3, w = 4;
  MatFile f = annotation(h, w,
                         {{15, box(h, w, 0, 3, 0, 2),
                           {{"torso", box(h, w, 0, 3, 0, 2)}, {"lhand", box(h, w, 1, 2, 0, 1)}}},
                          {8, box(h, w, 0, 3, 3, 4), {}},  // a cat: not a person
                          {15, box(h, w, 0, 1, 2, 4), {}},  // a person without part annotations
                          {15, box(h, w, 2, 3, 1, 4), {{"rfoot", box(h, w, 2, 3, 1, 4)}}}});
  CHECK(values_of(human_parts_label(f, h, w, kSrc)) == rows({{2, 2, 0, 0},
                                                               {4, 2, 0, 0},
                                                               {2, 6, 6, 6}}));
}

TEST_CASE("pascal parts: no people, or people of zero area, give all 0, which becomes all 255 after augmentation") {
  const int h = 2, w = 3;
  std::vector<uint8_t> none(size_t(h * w), 0);
  MatFile cat_only = annotation(h, w, {{8, box(h, w, 0, 2, 0, 2), {}}});
  MatFile empty = annotation(h, w, {});
  // The reference's ImageSets/Parts cache lists a person only when its mask has area > 0.
  MatFile ghost = annotation(h, w, {{15, none, {{"head", box(h, w, 0, 1, 0, 1)}}}});
  for (const MatFile* f : {&cat_only, &empty, &ghost}) {
    Sample s;
    s.id = "x";
    s.fields["human_parts"] = {human_parts_label(*f, h, w, kSrc), Interp::Nearest};
    CHECK(values_of(s.fields["human_parts"].map) == std::vector<float>(6, 0.0f));
    ignore_samples_without_parts(s);
    CHECK(values_of(s.fields["human_parts"].map) == std::vector<float>(6, 255.0f));
  }
  Sample with_person;
  with_person.fields["human_parts"] = {Tensor::zeros({h, w, 1}), Interp::Nearest};
  with_person.fields["human_parts"].map.data<float>()[4] = 3;
  ignore_samples_without_parts(with_person);
  CHECK(values_of(with_person.fields["human_parts"].map) == std::vector<float>{0, 0, 0, 0, 3, 0});
}

TEST_CASE("pascal parts: unknown part names and masks of another size are errors naming the file and the value") {
  const int h = 2, w = 2;
  MatFile wing = annotation(h, w, {{15, box(h, w, 0, 2, 0, 2), {{"lwing", box(h, w, 0, 1, 0, 1)}}}});
  CHECK_THROWS_WITH_AS(human_parts_label(wing, h, w, kSrc),
                       doctest::Contains("'parts.mat': anno.objects.parts.part_name is 'lwing'"), Error);
  MatFile ok = annotation(h, w, {{15, box(h, w, 0, 2, 0, 2), {{"head", box(h, w, 0, 1, 0, 1)}}}});
  CHECK_THROWS_WITH_AS(human_parts_label(ok, 3, 2, kSrc),
                       doctest::Contains("anno.objects.mask is a uint8 of 2x2, expected a 3x2 mask"), Error);
}

TEST_CASE("pascal edges: skimage's documented thinning example") {
  // skimage.morphology.thin's docstring: a 5x3 block at rows 1-5, cols 2-4, plus the pixel (0, 1).
  std::vector<uint8_t> sq(49, 0);
  for (int r = 1; r < 6; ++r)
    for (int c = 2; c < 5; ++c) sq[size_t(r * 7 + c)] = 1;
  sq[1] = 1;
  thin_edges(sq, 7, 7);
  std::vector<uint8_t> want(49, 0);
  for (int k : {1, 7 + 2, 14 + 3, 21 + 3, 28 + 3}) want[size_t(k)] = 1;
  CHECK(sq == want);
}

TEST_CASE("pascal edges: Laplacian boundaries with OpenCV's reflected border, then thinned") {
  std::vector<double> labels = {1, 1, 1, 2, 2, 2,  //
                                1, 1, 1, 2, 2, 2,  //
                                1, 1, 1, 2, 2, 2,  //
                                3, 3, 3, 3, 3, 3,  //
                                3, 3, 3, 3, 3, 3};
  // By hand: (0, 2): up reflects to row 1: 1 + 1 + 1 + 2 - 4 = 1 -> boundary. (2, 3): 2 + 3 + 1 + 2 - 8 = 0 -> not a
  // boundary although its neighbours differ (the reference's definition). (3, 0): left reflects to col 1:
  // 1 + 3 + 3 + 3 - 12 = -2 -> boundary. Row 4: all neighbours 3 -> none.
  std::vector<uint8_t> b = laplacian_boundaries(labels, 5, 6);
  CHECK(b == std::vector<uint8_t>{0, 0, 1, 1, 0, 0,  //
                                  0, 0, 1, 1, 0, 0,  //
                                  1, 1, 1, 0, 1, 1,  //
                                  1, 1, 1, 1, 1, 1,  //
                                  0, 0, 0, 0, 0, 0});
  // Thinned as skimage does (cross-checked with an independent transcription of skimage's thin in Python).
  std::vector<uint8_t> bytes =
      serialize_mat({{"LabelMap", mat_uint16({5, 6}, {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3,
                                                      3, 3, 3, 3, 3, 3, 3, 3, 3})}});
  MatFile f = parse_mat(bytes.data(), bytes.size(), "ctx.mat");
  Tensor e = edge_label(f, {"ctx.mat", "x", "PASCAL"});
  CHECK(e.shape() == Shape{5, 6, 1});
  CHECK(values_of(e) == rows({{0, 0, 0, 0, 0, 0},
                              {0, 0, 0, 1, 0, 0},
                              {0, 0, 1, 0, 1, 0},
                              {1, 1, 0, 1, 0, 0},
                              {0, 0, 0, 0, 0, 0}}));
  // 3 | 4 | 5 | 5: the middle 4 has a zero Laplacian; the last column reflects onto equal labels.
  CHECK(laplacian_boundaries({3, 4, 5, 5, 3, 4, 5, 5}, 2, 4) == std::vector<uint8_t>{1, 0, 1, 0, 1, 0, 1, 0});
  // A single row reflects onto itself vertically.
  CHECK(laplacian_boundaries({7, 7, 9}, 1, 3) == std::vector<uint8_t>{0, 1, 1});
}

TEST_CASE("pascal edges: a LabelMap that is missing, not 2-d numeric or not finite is an error naming the file") {
  std::vector<uint8_t> bytes = serialize_mat({{"Labels", mat_uint8({1, 1}, {1})}});
  MatFile wrong_name = parse_mat(bytes.data(), bytes.size(), "ctx.mat");
  CHECK_THROWS_WITH_AS(edge_label(wrong_name, {"ctx.mat", "x", "PASCAL"}), doctest::Contains("LabelMap"), Error);
  bytes = serialize_mat({{"LabelMap", mat_string("abc")}});
  MatFile text = parse_mat(bytes.data(), bytes.size(), "ctx.mat");
  CHECK_THROWS_WITH_AS(edge_label(text, {"ctx.mat", "x", "PASCAL"}),
                       doctest::Contains("'ctx.mat': LabelMap is a char"), Error);
  bytes = serialize_mat({{"LabelMap", mat_double({1, 2}, {1, std::nan("")})}});
  MatFile nan = parse_mat(bytes.data(), bytes.size(), "ctx.mat");
  CHECK_THROWS_WITH_AS(edge_label(nan, {"ctx.mat", "x", "PASCAL"}), doctest::Contains("(row 0, col 1)"), Error);
}

TEST_CASE("pascal normals: 2 * png / 255 - 1 on the NYUD-known Context classes, the zero vector elsewhere") {
  CHECK(normals_valid_class(284));   // person
  CHECK(normals_valid_class(427));   // tvmonitor, the reference's custom addition
  CHECK(normals_valid_class(3));     // air conditioner, the first shared name
  CHECK(normals_valid_class(457));   // wire, the last
  CHECK_FALSE(normals_valid_class(360));  // sky: NYUD has none
  CHECK_FALSE(normals_valid_class(431));  // unknown: excluded by name
  CHECK_FALSE(normals_valid_class(0));
  CHECK_FALSE(normals_valid_class(284.5));
  Tensor png = Tensor::empty({1, 3, 3}, DType::U8);
  const uint8_t px[9] = {255, 128, 0, 0, 255, 51, 10, 20, 30};
  std::memcpy(png.data<uint8_t>(), px, 9);
  Tensor n = normals_label(png, {284, 440, 360}, {"n.png", "x", "PASCAL"});  // person, wall, sky
  std::vector<float> v = values_of(n);
  CHECK(v[0] == 1.0f);
  CHECK(v[1] == doctest::Approx(1.0 / 255.0).epsilon(1e-6));  // 2 * 128 / 255 - 1
  CHECK(v[2] == -1.0f);
  CHECK(v[3] == -1.0f);
  CHECK(v[4] == 1.0f);
  CHECK(v[5] == doctest::Approx(-0.6).epsilon(1e-6));  // 2 * 51 / 255 - 1
  CHECK(std::vector<float>(v.begin() + 6, v.end()) == std::vector<float>{0, 0, 0});
  CHECK_THROWS_WITH_AS(normals_label(png, {284, 440}, {"n.png", "x", "PASCAL"}),
                       doctest::Contains("'n.png' is 1x3 but its LabelMap has 2 pixels"), Error);
}
