// The .npy reader: every supported layout (files written by NumPy), and malformed files rejected by name.
#include <cstring>

#include "data/npy.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::test;

namespace {
// The generator wrote a.flat[i] = 0.5*i - 3 for floats and i (unsigned) or i - 3 (signed) for integers, C order.
void check_values(const std::string& name, const Shape& shape, DType dtype, bool is_float, bool is_signed) {
  INFO(name);
  Tensor t = load_npy(fixture_path("npy/" + name + ".npy"));
  CHECK(t.shape() == shape);
  CHECK(t.dtype() == dtype);
  std::vector<double> v = t.to_double_vector();
  for (size_t i = 0; i < v.size(); ++i) {
    double want = is_float ? 0.5 * double(i) - 3 : double(i) - (is_signed ? 3 : 0);
    CHECK(v[i] == want);
  }
}

std::vector<uint8_t> npy_bytes(const std::string& header, size_t data_bytes) {
  const uint8_t prefix[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, uint8_t(header.size()), 0};
  std::vector<uint8_t> out(10 + header.size() + data_bytes, 0);
  std::memcpy(out.data(), prefix, 10);
  std::memcpy(out.data() + 10, header.data(), header.size());
  return out;
}

void check_rejected(const std::vector<uint8_t>& bytes, const std::string& problem) {
  INFO(problem);
  CHECK_THROWS_WITH_AS(parse_npy(bytes.data(), bytes.size(), "bad.npy"), doctest::Contains("bad.npy"), Error);
  CHECK_THROWS_WITH_AS(parse_npy(bytes.data(), bytes.size(), "bad.npy"), doctest::Contains(problem.c_str()), Error);
}
}  // namespace

TEST_CASE("npy: little and big endian, C and Fortran order, several dtypes and ranks") {
  check_values("f4_le_c_2x3", {2, 3}, DType::F32, true, true);
  check_values("f8_be_c_2x3x2", {2, 3, 2}, DType::F64, true, true);
  check_values("f4_le_f_3x4", {3, 4}, DType::F32, true, true);
  check_values("f8_be_f_2x3x4", {2, 3, 4}, DType::F64, true, true);
  check_values("u1_c_5", {5}, DType::U8, false, false);
  check_values("u2_be_c_2x2", {2, 2}, DType::I32, false, false);
  check_values("i4_le_c_3x2", {3, 2}, DType::I32, false, true);
  check_values("i8_be_f_2x3", {2, 3}, DType::I64, false, true);
  check_values("f4_scalar", {}, DType::F32, true, true);
}

TEST_CASE("npy: save then load round trip") {
  std::string path = "/tmp/mtinet_test_roundtrip.npy";
  Tensor t = Tensor::from_vector<float>({2, 1, 3}, {1.5f, -2, 3, 4, 5, 6.25f});
  save_npy(path, t);
  Tensor r = load_npy(path);
  CHECK(r.shape() == t.shape());
  CHECK(r.to_double_vector() == t.to_double_vector());
}

TEST_CASE("npy: malformed files are rejected with the file name and the problem") {
  const std::string good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  check_rejected({0x93, 'N', 'U', 'M'}, "bad magic");
  check_rejected({'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0, 0}, "bad magic");
  std::vector<uint8_t> v = npy_bytes(good, 24);
  v[6] = 9;
  check_rejected(v, "format version");
  v = npy_bytes(good, 24);
  v[8] = 250;  // header length past the end
  check_rejected(v, "exceeds the file size");
  check_rejected(npy_bytes(good, 20), "needs 24");
  check_rejected(npy_bytes(good, 28), "needs 24");
  check_rejected(npy_bytes("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", 16), "unsupported .npy dtype");
  check_rejected(npy_bytes("{'descr': '<u8', 'fortran_order': False, 'shape': (2,), }", 16), "unsupported .npy element");
  check_rejected(npy_bytes("{'fortran_order': False, 'shape': (2,), }", 8), "'descr'");
  check_rejected(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", 8), "bad .npy shape");
  check_rejected(npy_bytes("not a dict", 8), "not a dict");
  CHECK_THROWS_WITH_AS(load_npy("/nonexistent/depth.npy"), doctest::Contains("/nonexistent/depth.npy"), Error);
}
