// The MAT-file reader (data/mat.h): files written by scipy.io.savemat and by a MATLAB-style writer
// (tests/fixtures/mat, from tools/golden/mat_samples.py, whose values are spelled out here), a PASCAL-Part
// annotation, accessor errors, and damaged, crafted and unsupported files, each rejected with a message naming it.
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "core/file_io.h"
#include "data/mat.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::test;

namespace {

std::string mat_fixture(const std::string& name) { return fixture_path("mat/" + name); }

template <class T>
void check_numbers(const MatValue& v, MatClass cls, const std::vector<int64_t>& shape, const std::vector<T>& want) {
  INFO(v.path);
  CHECK(mat_class_name(v.cls) == std::string(mat_class_name(cls)));
  CHECK(v.shape == shape);
  CHECK(v.to_vector<T>() == want);
}


void check_error(const std::string& message, const std::vector<std::string>& parts) {
  INFO(message);
  REQUIRE(!message.empty());
  for (const std::string& p : parts) CHECK(message.find(p) != std::string::npos);
}

// ---- a little-endian MAT-file builder for crafted inputs ----
using Bytes = std::vector<uint8_t>;
constexpr uint32_t kInt8 = 1, kUInt8 = 2, kInt16 = 3, kInt32 = 5, kUInt32 = 6, kDouble = 9, kMatrix = 14,
                   kCompressed = 15, kUtf8 = 16;
constexpr uint32_t kCellClass = 1, kCharClass = 4, kDoubleClass = 6, kUInt8Class = 9;

void put32(Bytes& b, uint32_t v) {
  for (int k = 0; k < 4; ++k) b.push_back(uint8_t(v >> (8 * k)));
}

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Bytes element(uint32_t type, const Bytes& data, bool pad = true) {
  Bytes out;
  put32(out, type);
  put32(out, uint32_t(data.size()));
  out.insert(out.end(), data.begin(), data.end());
  if (pad) out.resize(out.size() + (8 - data.size() % 8) % 8, 0);
  return out;
}

Bytes words(const std::vector<uint32_t>& w) {
  Bytes out;
  for (uint32_t x : w) put32(out, x);
  return out;
}

Bytes matrix(uint32_t cls, const std::vector<uint32_t>& dims, const std::string& name, const Bytes& body) {
  Bytes content = cat({element(kUInt32, words({cls, 0})), element(kInt32, words(dims)),
                       element(kInt8, Bytes(name.begin(), name.end())), body});
  return element(kMatrix, content);
}

Bytes doubles(const std::vector<double>& v) {
  Bytes out(v.size() * 8);
  std::memcpy(out.data(), v.data(), out.size());
  return element(kDouble, out);
}

Bytes header(uint16_t version = 0x0100, const std::string& endian = "IM") {
  Bytes h(128, ' ');
  std::string text = "MATLAB 5.0 MAT-file, crafted by tests/test_mat.cpp";
  std::copy(text.begin(), text.end(), h.begin());
  std::fill(h.begin() + 116, h.begin() + 124, 0);
  h[124] = uint8_t(version);
  h[125] = uint8_t(version >> 8);
  h[126] = uint8_t(endian[0]);
  h[127] = uint8_t(endian[1]);
  return h;
}

Bytes zlib_bytes(const Bytes& in) {
  uLongf n = compressBound(uLong(in.size()));
  Bytes out(n);
  REQUIRE(compress2(out.data(), &n, in.data(), uLong(in.size()), 9) == Z_OK);
  out.resize(n);
  return out;
}

Bytes compressed(const Bytes& inner) { return element(kCompressed, zlib_bytes(inner), false); }

std::string parse_error(const Bytes& b) {
  return test::error_message([&] { parse_mat(b.data(), b.size(), "bad.mat"); });
}

}  // namespace

TEST_CASE("mat: every numeric class and logical from scipy, compressed and not, row-major") {
  for (const char* name : {"numeric.mat", "numeric_z.mat"}) {
    INFO(name);
    MatFile f = read_mat(mat_fixture(name));
    CHECK(f.names == std::vector<std::string>{"d", "s", "i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "lg",
                                              "nd", "empty", "scalar"});
    // NumPy's 2x3 [[-2, -0.5, 1], [2.5, 4, 5.5]]; the file holds it column-major (-2, 2.5, -0.5, ...).
    check_numbers<double>(f.var("d"), MatClass::Double, {2, 3}, {-2, -0.5, 1, 2.5, 4, 5.5});
    check_numbers<float>(f.var("s"), MatClass::Single, {3, 2}, {0.5f, -1, 2.25f, 3, -4.5f, 5});
    check_numbers<int8_t>(f.var("i8"), MatClass::Int8, {1, 3}, {-128, 0, 127});
    check_numbers<uint8_t>(f.var("u8"), MatClass::UInt8, {2, 2}, {0, 1, 254, 255});
    check_numbers<int16_t>(f.var("i16"), MatClass::Int16, {1, 2}, {-32768, 32767});
    check_numbers<uint16_t>(f.var("u16"), MatClass::UInt16, {1, 2}, {0, 65535});
    check_numbers<int32_t>(f.var("i32"), MatClass::Int32, {1, 2}, {std::numeric_limits<int32_t>::min(), 2147483647});
    check_numbers<uint32_t>(f.var("u32"), MatClass::UInt32, {1, 2}, {0, 4294967295u});
    check_numbers<int64_t>(f.var("i64"), MatClass::Int64, {1, 2},
                           {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()});
    check_numbers<uint64_t>(f.var("u64"), MatClass::UInt64, {1, 2}, {0, std::numeric_limits<uint64_t>::max()});
    check_numbers<uint8_t>(f.var("lg"), MatClass::Logical, {2, 3}, {1, 0, 1, 0, 0, 1});
    std::vector<double> iota(24);
    for (size_t i = 0; i < iota.size(); ++i) iota[i] = double(i);
    check_numbers<double>(f.var("nd"), MatClass::Double, {2, 3, 4}, iota);  // N-d: value = C-order index
    check_numbers<double>(f.var("empty"), MatClass::Double, {0, 3}, {});
    CHECK(f.var("scalar").scalar() == 7);
    CHECK(f.var("scalar").shape == std::vector<int64_t>{1, 1});
  }
}

TEST_CASE("mat: char arrays as UTF-8 strings and rows") {
  MatFile f = read_mat(mat_fixture("text.mat"));
  CHECK(f.var("ascii").str() == "person");
  CHECK(f.var("bmp").str() == "h\xc3\xa9llo w\xc3\xb6rld \xe2\x82\xac");
  CHECK(f.var("bmp").shape == std::vector<int64_t>{1, 13});
  // scipy counts U+1F600 once; MATLAB holds it as two UTF-16 units, and so does the reader.
  CHECK(f.var("astral").str() == "\xf0\x9f\x98\x80x");
  CHECK(f.var("astral").shape == std::vector<int64_t>{1, 3});
  CHECK(f.var("rows").shape == std::vector<int64_t>{3, 2});
  CHECK(f.var("rows").char_rows() == std::vector<std::string>{"ab", "cd", "ef"});
  check_error(test::error_message([&] { f.var("rows").str(); }), {"text.mat", "rows", "3x2 char", "char_rows"});
  CHECK(f.var("blank").str().empty());
  CHECK(f.var("blank").numel() == 0);
}

TEST_CASE("mat: structs with nested struct and cell fields, cells of cells, struct and cell arrays row-major") {
  for (const char* name : {"nested.mat", "nested_z.mat"}) {
    INFO(name);
    MatFile f = read_mat(mat_fixture(name));
    const MatValue& st = f.var("st");
    CHECK(st.field_names == std::vector<std::string>{"name", "inner", "list"});
    CHECK(st.field("name").str() == "outer");
    CHECK(st.field("inner").field("x").scalar() == 1);
    const MatValue& v = st.field("inner").field("deep").field("v");
    check_numbers<int32_t>(v, MatClass::Int32, {2, 2}, {1, 2, 3, 4});
    CHECK(v.path == "st.inner.deep.v");
    const MatValue& list = st.field("list");
    CHECK(list.is_cell());
    CHECK(list.shape == std::vector<int64_t>{1, 3});
    CHECK(list.cell(0).str() == "a");
    CHECK(list.cell(1).scalar() == 2);
    check_numbers<double>(list.cell(2).cell(0), MatClass::Double, {1, 2}, {1, 2});
    CHECK(list.cell(2).cell(0).path == "st.list{3}{1}");

    const MatValue& cc = f.var("cc");
    CHECK(cc.shape == std::vector<int64_t>{1, 2});
    CHECK(cc.cell(0).shape == std::vector<int64_t>{2, 1});
    CHECK(cc.cell(0).cell(0).str() == "x");
    check_numbers<double>(cc.cell(0).cell(1), MatClass::Double, {1, 3}, {1, 2, 3});
    CHECK(cc.cell(1).cell(0).cell(0).str() == "deep");

    const MatValue& c23 = f.var("c23");  // NumPy's c23[r, c] = 3r + c: row-major index i holds i
    CHECK(c23.shape == std::vector<int64_t>{2, 3});
    for (int64_t i = 0; i < 6; ++i) CHECK(c23.cell(i).scalar() == double(i));
    CHECK(c23.cell(1).path == "c23{1,2}");

    const MatValue& sa = f.var("sa");  // 2x2 struct array, sa(r, c).v = 10r + c (0-based)
    CHECK(sa.struct_size() == 4);
    for (int64_t e = 0; e < 4; ++e) CHECK(sa.field(e, "v").scalar() == double(10 * (e / 2) + e % 2));
    CHECK(sa.field(1, "v").path == "sa(1,2).v");
  }
}

TEST_CASE("mat: a PASCAL-Part annotation (anno.objects(k).class, .mask, .parts(j).part_name, .parts(j).mask)") {
  MatFile f = read_mat(mat_fixture("pascal_part.mat"));
  const MatValue& anno = f.var("anno");
  CHECK(anno.field("imname").str() == "2008_000003");
  const MatValue& objects = anno.field("objects");
  REQUIRE(objects.struct_size() == 2);
  CHECK(objects.field(0, "class").str() == "person");
  CHECK(objects.field(0, "class_ind").scalar() == 15);
  // mask(r, c) = 1 on rows 0..3, columns 1..3 (0-based), as an 6x8 uint8 HxW array.
  auto box = [](int r0, int r1, int c0, int c1) {
    std::vector<uint8_t> m(6 * 8, 0);
    for (int r = r0; r < r1; ++r)
      for (int c = c0; c < c1; ++c) m[size_t(r * 8 + c)] = 1;
    return m;
  };
  check_numbers<uint8_t>(objects.field(0, "mask"), MatClass::UInt8, {6, 8}, box(0, 4, 1, 4));
  const MatValue& parts = objects.field(0, "parts");
  REQUIRE(parts.struct_size() == 3);
  CHECK(parts.field(0, "part_name").str() == "head");
  CHECK(parts.field(1, "part_name").str() == "torso");
  CHECK(parts.field(2, "part_name").str() == "llarm");
  check_numbers<uint8_t>(parts.field(0, "mask"), MatClass::UInt8, {6, 8}, box(0, 2, 2, 4));
  check_numbers<uint8_t>(parts.field(2, "mask"), MatClass::UInt8, {6, 8}, box(2, 4, 1, 2));
  CHECK(parts.field(2, "mask").path == "anno.objects(1).parts(3).mask");
  CHECK(objects.field(1, "class").str() == "dog");
  check_numbers<uint8_t>(objects.field(1, "mask"), MatClass::UInt8, {6, 8}, box(3, 6, 5, 8));
  CHECK(objects.field(1, "parts").struct_size() == 0);  // an object without part annotations
  CHECK(objects.field(1, "parts").has_field("part_name"));
}

TEST_CASE("mat: MATLAB-style files: narrowed storage, small data elements, empty cells, big-endian, compressed") {
  for (const char* name : {"matlab_style.mat", "matlab_style_be.mat"}) {
    INFO(name);
    MatFile f = read_mat(mat_fixture(name));
    check_numbers<double>(f.var("d_u8"), MatClass::Double, {2, 3}, {0, 1, 2, 253, 254, 255});
    check_numbers<double>(f.var("d_i16"), MatClass::Double, {3, 2}, {-300, 0, 1, 300, -1, 2});
    check_numbers<double>(f.var("d_small"), MatClass::Double, {1, 1}, {42});
    check_numbers<int16_t>(f.var("i16_u8"), MatClass::Int16, {1, 3}, {1, 2, 3});
    check_numbers<float>(f.var("s_i8"), MatClass::Single, {1, 2}, {-5, 5});
    check_numbers<uint8_t>(f.var("lg"), MatClass::Logical, {1, 4}, {1, 0, 1, 1});
    CHECK(f.var("name16").str() == "person");
    CHECK(f.var("name8").str() == "h\xc3\xa9");
    const MatValue& c = f.var("c");
    CHECK(c.cell(0).numel() == 0);  // an empty miMATRIX element is []
    CHECK(c.cell(1).scalar() == 7);
    CHECK(c.cell(2).str() == "ok");
    CHECK(f.var("s").field("class").str() == "person");
    check_numbers<uint8_t>(f.var("s").field("mask"), MatClass::UInt8, {2, 3}, {0, 1, 1, 1, 0, 0});
    std::vector<double> z(20);
    for (size_t i = 0; i < z.size(); ++i) z[i] = double(i % 3);
    check_numbers<double>(f.var("z"), MatClass::Double, {4, 5}, z);
  }
}

TEST_CASE("mat: accessor errors name the file, the variable path and the problem") {
  std::string path = mat_fixture("pascal_part.mat");
  MatFile f = read_mat(path);
  const MatValue& objects = f.var("anno").field("objects");
  check_error(test::error_message([&] { objects.field(0, "maskx"); }),
              {path, "anno.objects", "no field 'maskx'", "class, class_ind, mask, parts"});
  check_error(test::error_message([&] { objects.field(2, "mask"); }), {path, "anno.objects", "element 2 out of range"});
  check_error(test::error_message([&] { objects.field("mask"); }), {path, "anno.objects", "1x2 struct"});
  check_error(test::error_message([&] { f.var("anno").field("imname").scalar(); }), {path, "anno.imname", "numeric", "char"});
  check_error(test::error_message([&] { objects.field(0, "mask").str(); }), {path, "anno.objects(1).mask", "char", "uint8"});
  check_error(test::error_message([&] { objects.cell(0); }), {path, "anno.objects", "cell", "struct"});
  check_error(test::error_message([&] { objects.field(0, "mask").expect_shape({-1, 9}); }),
              {path, "anno.objects(1).mask", "Nx9", "6x8 uint8"});
  check_error(test::error_message([&] { f.var("annotation"); }), {path, "no variable 'annotation'", "variables: anno"});
  objects.field(0, "mask").expect_shape({6, -1});  // matches: must not throw
  MatFile n = read_mat(mat_fixture("numeric.mat"));
  check_error(test::error_message([&] { n.var("d").to_vector<uint8_t>(); }), {"numeric.mat", "d:", "element 0", "2x3 double"});
  check_error(test::error_message([&] { n.var("i64").to_vector<int32_t>(); }), {"numeric.mat", "i64", "element 0"});
}

TEST_CASE("mat: sparse and complex arrays are rejected by name") {
  std::string sparse = mat_fixture("sparse.mat"), complex = mat_fixture("complex.mat");
  check_error(test::error_message([&] { read_mat(sparse); }), {sparse, "sp:", "sparse arrays are not supported", "full()"});
  check_error(test::error_message([&] { read_mat(complex); }), {complex, "cx:", "complex arrays are not supported"});
}

TEST_CASE("mat: v7.3 (HDF5) files are rejected with a message naming the file and saying to re-save with -v7") {
  std::string path = mat_fixture("v73.mat");
  check_error(test::error_message([&] { read_mat(path); }), {path, "v7.3", "HDF5", "'-v7'"});
  Bytes b = read_file_bytes(path);
  // The header alone says so too, as does a plain HDF5 file and a version-2 header without the text.
  check_error(test::error_message([&] { parse_mat(b.data(), 128, "cut73.mat"); }), {"cut73.mat", "v7.3", "'-v7'"});
  Bytes hdf5(b.begin() + 512, b.end());
  check_error(test::error_message([&] { parse_mat(hdf5.data(), hdf5.size(), "plain.h5"); }), {"plain.h5", "v7.3"});
  check_error(parse_error(header(0x0200)), {"bad.mat", "v7.3", "'-v7'"});
}

TEST_CASE("mat: damaged fixtures are rejected with a message naming the file") {
  std::string truncated = mat_fixture("truncated.mat"), corrupt = mat_fixture("corrupt_zlib.mat");
  check_error(test::error_message([&] { read_mat(truncated); }), {truncated, "only", "remain (truncated file?)"});
  // What zlib reports depends on where the changed bits land; it must be caught in the compressed element.
  check_error(test::error_message([&] { read_mat(corrupt); }), {corrupt, "compressed element at byte 128"});
}

TEST_CASE("mat: every truncation of a fixture is rejected, or ends exactly between variables") {
  for (const char* name : {"numeric.mat", "nested.mat", "nested_z.mat", "matlab_style_be.mat", "pascal_part.mat"}) {
    INFO(name);
    Bytes b = read_file_bytes(mat_fixture(name));
    std::vector<std::string> all = parse_mat(b.data(), b.size(), name).names;
    int rejected = 0, accepted = 0;
    for (size_t n = 0; n < b.size(); ++n) {
      try {
        MatFile f = parse_mat(b.data(), n, "cut.mat");
        // A cut between two variables leaves a valid file with the first ones.
        REQUIRE(f.names.size() < all.size());
        CHECK(std::equal(f.names.begin(), f.names.end(), all.begin()));
        ++accepted;
      } catch (const Error& e) {
        INFO(n << ": " << e.what());
        REQUIRE(std::string(e.what()).find("'cut.mat'") != std::string::npos);
        ++rejected;
      }
    }
    CHECK(accepted <= int(all.size()));  // one per variable boundary (including the end of the header)
    CHECK(rejected >= int(b.size()) - int(all.size()));
  }
}

TEST_CASE("mat: changed bytes anywhere in a fixture are read or rejected by name, never crash") {
  // Only mtinet::Error may escape: another exception (bad_alloc, length_error) or a crash fails the test.
  for (const char* name : {"numeric.mat", "nested.mat", "matlab_style.mat", "pascal_part.mat", "text.mat"}) {
    INFO(name);
    Bytes good = read_file_bytes(mat_fixture(name));
    int rejected = 0;
    for (size_t i = 0; i < good.size(); ++i) {
      for (uint8_t mask : {uint8_t(0x01), uint8_t(0x80), uint8_t(0xFF)}) {
        Bytes b = good;
        b[i] ^= mask;
        std::string err = test::error_message([&] { parse_mat(b.data(), b.size(), "mutant.mat"); });
        if (!err.empty()) {
          INFO(i << ": " << err);
          REQUIRE(err.find("'mutant.mat'") != std::string::npos);
          ++rejected;
        }
      }
    }
    CHECK(rejected > 0);
  }
}

TEST_CASE("mat: crafted lengths, dimensions, sizes and nesting are rejected before use") {
  Bytes scalar = matrix(kDoubleClass, {1, 1}, "x", doubles({1}));
  REQUIRE(parse_mat(cat({header(), scalar}).data(), 128 + scalar.size(), "ok.mat").var("x").scalar() == 1);

  check_error(parse_error(Bytes(100, 'M')), {"bad.mat", "too short"});
  check_error(parse_error(header(0x0100, "XX")), {"bad.mat", "not a MATLAB level-5 MAT-file"});
  check_error(parse_error(header(0x0300)), {"bad.mat", "unsupported MAT-file version 3.0"});
  // A tag announcing more bytes than the file has.
  Bytes longer = cat({header(), scalar});
  longer[132] = 0xFF;
  check_error(parse_error(longer), {"bad.mat", "only", "remain", "at byte 128"});
  // A small data element claiming 8 bytes (at most 4 fit), as the dimensions.
  Bytes small_dims = cat({element(kUInt32, words({kDoubleClass, 0})), words({8u << 16 | kInt32, 1}),
                          element(kInt8, Bytes{'x'}), doubles({1})});
  check_error(parse_error(cat({header(), element(kMatrix, small_dims)})), {"bad.mat", "small data element claims 8"});
  check_error(parse_error(cat({header(), matrix(kDoubleClass, {1, uint32_t(-2)}, "x", doubles({1}))})),
              {"bad.mat", "variable 1:", "negative dimension -2"});
  check_error(parse_error(cat({header(), matrix(kDoubleClass, {0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF}, "x",
                                                doubles({1}))})),
              {"bad.mat", "overflows"});
  check_error(parse_error(cat({header(), matrix(kDoubleClass, {1000, 1000}, "x", doubles({1}))})),
              {"bad.mat", "x", "need 1000000"});
  // A 100000x100000 cell of one element's worth of data: refused before allocating 10^10 values.
  check_error(parse_error(cat({header(), matrix(kCellClass, {100000, 100000}, "c", Bytes(8, 0))})),
              {"bad.mat", "c", "needs 10000000000 nested arrays"});
  // A value that does not fit the array's class: uint8 array stored as int16 300.
  check_error(parse_error(cat({header(), matrix(kUInt8Class, {1, 1}, "u", element(kInt16, {0x2C, 0x01}))})),
              {"bad.mat", "u", "does not fit the array's class uint8"});
  // A 3-byte element (not in small format) at the end of its array, without its padding.
  Bytes unpadded = cat({element(kUInt32, words({kCharClass, 0})), element(kInt32, words({1, 3})),
                        element(kInt8, Bytes{'t'}), element(kUtf8, {'a', 'b', 'c'}, false)});
  check_error(parse_error(cat({header(), element(kMatrix, unpadded, false)})), {"bad.mat", "t", "padding"});
  check_error(parse_error(cat({header(), matrix(kCharClass, {1, 2}, "t", element(kUtf8, {0xC3, 0x28}))})),
              {"bad.mat", "t", "invalid UTF-8"});
  check_error(parse_error(cat({header(), matrix(kDoubleClass, {1, 1}, "x", cat({doubles({1}), doubles({2})}))})),
              {"bad.mat", "x", "unexpected bytes"});
  check_error(parse_error(cat({header(), scalar, scalar})), {"bad.mat", "variable 'x' appears twice"});
  check_error(parse_error(cat({header(), element(kDouble, Bytes(8, 0))})), {"bad.mat", "unexpected top-level"});

  // Nesting: 150 cells deep is read; 300 is refused (the parser recurses once per level).
  auto nest = [&](int depth) {
    Bytes v = matrix(kDoubleClass, {1, 1}, "", doubles({5}));
    for (int k = 0; k < depth; ++k) v = matrix(kCellClass, {1, 1}, k + 1 == depth ? "deep" : "", v);
    return cat({header(), v});
  };
  Bytes ok = nest(150);
  MatFile deep = parse_mat(ok.data(), ok.size(), "deep.mat");
  const MatValue* v = &deep.var("deep");
  for (int k = 0; k < 150; ++k) v = &v->cell(0);
  CHECK(v->scalar() == 5);
  check_error(parse_error(nest(300)), {"bad.mat", "nested deeper than 200 levels"});
}

TEST_CASE("mat: compressed elements: sizes bounded before allocating, streams checked to the byte") {
  Bytes scalar = matrix(kDoubleClass, {1, 1}, "x", doubles({3}));
  Bytes good = cat({header(), compressed(scalar)});
  REQUIRE(parse_mat(good.data(), good.size(), "ok.mat").var("x").scalar() == 3);

  // An inner tag announcing 4 GB from a few compressed bytes: refused before allocating.
  check_error(parse_error(cat({header(), compressed(words({kMatrix, 0xFFFFFFF0}))})),
              {"bad.mat", "announces 4294967280", "limit"});
  // Decompressed data shorter, then longer, than its tag announces.
  Bytes shorter = scalar;
  shorter.resize(shorter.size() - 8);
  check_error(parse_error(cat({header(), compressed(shorter)})), {"bad.mat", "decompressed data has", "announces"});
  Bytes longer = cat({scalar, Bytes(8, 0)});
  check_error(parse_error(cat({header(), compressed(longer)})), {"bad.mat", "longer than"});
  // Bytes after the end of the zlib stream, inside the element.
  Bytes z = zlib_bytes(scalar);
  z.push_back(0);
  check_error(parse_error(cat({header(), element(kCompressed, z, false)})), {"bad.mat", "1 bytes follow the end"});
  // A compressed stream cut short, and one holding something other than an array.
  Bytes cut = zlib_bytes(scalar);
  cut.resize(cut.size() / 2);
  check_error(parse_error(cat({header(), element(kCompressed, cut, false)})), {"bad.mat", "compressed"});
  check_error(parse_error(cat({header(), compressed(doubles({1}))})), {"bad.mat", "holds data type 9"});
  // An error inside the decompressed data says where, in both the decompressed data and the file.
  check_error(parse_error(cat({header(), compressed(matrix(kDoubleClass, {2, 2}, "x", doubles({1})))})),
              {"bad.mat", "x:", "of the data decompressed from the element at byte 128"});
}
