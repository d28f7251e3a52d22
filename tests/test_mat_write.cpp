// The MAT-file writer (data/mat_write.h): what it writes reads back equal through read_mat, column-major storage
// included, and a PASCAL-Part annotation written by it reads as the scipy-written fixture does.
#include <cstring>

#include "data/mat.h"
#include "data/mat_write.h"
#include "test_util.h"

using namespace mtinet;

namespace {

// Written uncompressed and compressed: both must read back the same.
MatFile round_trip(const MatVariables& vars) {
  std::vector<uint8_t> plain = serialize_mat(vars), packed = serialize_mat(vars, true);
  MatFile a = parse_mat(plain.data(), plain.size(), "round trip");
  MatFile b = parse_mat(packed.data(), packed.size(), "round trip, compressed");
  CHECK(a.names == b.names);
  for (const std::string& n : a.names) {
    CHECK(a.var(n).bytes == b.var(n).bytes);
    CHECK(a.var(n).shape == b.var(n).shape);
  }
  return a;
}

}  // namespace

TEST_CASE("mat_write: numeric, logical and char arrays read back equal, 3-d arrays row-major in and out") {
  std::vector<uint16_t> cube(2 * 3 * 4);
  for (size_t k = 0; k < cube.size(); ++k) cube[k] = uint16_t(100 + k);  // element (i, j, l) = 100 + 12i + 4j + l
  MatFile f = round_trip({{"cube", mat_uint16({2, 3, 4}, cube)},
                          {"d", mat_double({2, 2}, {1.5, -2, 3e300, 0.25})},
                          {"flags", mat_logical({1, 3}, {1, 0, 1})},
                          {"name", mat_string("person")},
                          {"empty", mat_uint8({0, 0}, {})}});
  CHECK(f.names == std::vector<std::string>{"cube", "d", "flags", "name", "empty"});
  const MatValue& c = f.var("cube");
  CHECK(c.cls == MatClass::UInt16);
  CHECK(c.shape == std::vector<int64_t>{2, 3, 4});
  CHECK(c.to_vector<uint16_t>() == cube);
  CHECK(c.to_vector<int>()[1 * 12 + 2 * 4 + 3] == 123);  // (1, 2, 3)
  CHECK(f.var("d").to_vector<double>() == std::vector<double>{1.5, -2, 3e300, 0.25});
  CHECK(f.var("flags").cls == MatClass::Logical);
  CHECK(f.var("flags").to_vector<int>() == std::vector<int>{1, 0, 1});
  CHECK(f.var("name").str() == "person");
  CHECK(f.var("empty").numel() == 0);
}

TEST_CASE("mat_write: a 2x3 double is stored column-major, as MATLAB does") {
  std::vector<uint8_t> bytes = serialize_mat({{"m", mat_double({2, 3}, {1, 2, 3, 4, 5, 6})}});
  // The real part is the last data element: 6 doubles in the order m(1,1), m(2,1), m(1,2), ... = 1 4 2 5 3 6.
  REQUIRE(bytes.size() >= 48);
  double stored[6];
  std::memcpy(stored, bytes.data() + bytes.size() - 48, 48);
  CHECK(std::vector<double>(stored, stored + 6) == std::vector<double>{1, 4, 2, 5, 3, 6});
}

TEST_CASE("mat_write: a PASCAL-Part annotation reads back like the scipy-written fixture") {
  auto box = [](int r0, int r1, int c0, int c1) {
    std::vector<uint8_t> m(6 * 8, 0);
    for (int r = r0; r < r1; ++r)
      for (int c = c0; c < c1; ++c) m[size_t(r * 8 + c)] = 1;
    return m;
  };
  MatValue parts = mat_struct({1, 2}, {"part_name", "mask"},
                              {mat_string("head"), mat_uint8({6, 8}, box(0, 2, 2, 4)), mat_string("llarm"),
                               mat_uint8({6, 8}, box(2, 4, 1, 2))});
  MatValue no_parts = mat_struct({0, 0}, {"part_name", "mask"}, {});
  MatValue objects = mat_struct({1, 2}, {"class", "class_ind", "mask", "parts"},
                                {mat_string("person"), mat_double({1, 1}, {15}), mat_uint8({6, 8}, box(0, 4, 1, 4)),
                                 parts, mat_string("dog"), mat_double({1, 1}, {12}),
                                 mat_uint8({6, 8}, box(3, 6, 5, 8)), no_parts});
  MatFile f = round_trip({{"anno", mat_struct({1, 1}, {"imname", "objects"}, {mat_string("2008_000003"), objects})}});
  const MatValue& o = f.var("anno").field("objects");
  REQUIRE(o.struct_size() == 2);
  CHECK(o.field(0, "class").str() == "person");
  CHECK(o.field(0, "class_ind").scalar() == 15);
  CHECK(o.field(0, "parts").field(1, "part_name").str() == "llarm");
  CHECK(o.field(0, "parts").field(1, "mask").to_vector<uint8_t>() == box(2, 4, 1, 2));
  CHECK(o.field(0, "parts").field(1, "mask").path == "anno.objects(1).parts(2).mask");
  CHECK(o.field(1, "parts").struct_size() == 0);
  CHECK(o.field(1, "parts").has_field("mask"));
}

TEST_CASE("mat_write: compressed variables are zlib streams inside miCOMPRESSED elements, much smaller for masks") {
  std::vector<uint8_t> mask(64 * 64, 0);
  for (size_t k = 1000; k < 1400; ++k) mask[k] = 1;
  std::vector<uint8_t> plain = serialize_mat({{"m", mat_uint8({64, 64}, mask)}});
  std::vector<uint8_t> packed = serialize_mat({{"m", mat_uint8({64, 64}, mask)}}, true);
  CHECK(packed[128] == 15);  // the first element's type: miCOMPRESSED
  CHECK(packed.size() * 10 < plain.size());
  CHECK(parse_mat(packed.data(), packed.size(), "packed").var("m").to_vector<uint8_t>() == mask);
}

TEST_CASE("mat_write: inconsistent values are refused before anything is written") {
  CHECK_THROWS_WITH_AS(mat_uint8({2, 2}, {1, 2, 3}), doctest::Contains("3 values for a shape of 4"), Error);
  CHECK_THROWS_WITH_AS(serialize_mat({{"s", mat_struct({1, 1}, {"a", "a"}, {mat_string("x"), mat_string("y")})}}),
                       doctest::Contains("repeated field 'a'"), Error);
  CHECK_THROWS_WITH_AS(mat_logical({1, 1}, {2}), doctest::Contains("logical value 2"), Error);
}
