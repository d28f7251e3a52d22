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

namespace {
// A version 2.0 file (4-byte header length), for headers longer than the 255 bytes npy_bytes allows.
std::vector<uint8_t> npy2_bytes(const std::string& header, size_t data_bytes) {
  std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0};
  for (int i = 0; i < 4; ++i) out.push_back(uint8_t(header.size() >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  out.resize(out.size() + data_bytes, 0);
  return out;
}

const std::string kRegressions = MTINET_FIXTURE_DIR "/../fuzz/regressions/npy/";
}  // namespace

TEST_CASE("npy: an element count that overflows is rejected before any read (fuzz regression)") {
  // 65536 * (2**48 + 1) wraps to 65536 in int64, which 65536 bytes of u1 matched: the Fortran-order reader then ran
  // gigabytes past the data (SIGSEGV). Now the count is checked without overflow.
  check_rejected(npy_bytes("{'descr': '|u1', 'fortran_order': True, 'shape': (65536, 281474976710657), }", 65536),
                 "shape [65536, 281474976710657] has too many elements (the count overflows)");
  check_rejected(npy_bytes("{'descr': '|u1', 'fortran_order': False, 'shape': (4, 4611686018427387905), }", 4),
                 "has too many elements");
  // The element count fits but the byte count does not.
  check_rejected(npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,), }", 0),
                 "has too many bytes (the count overflows)");
  // A zero dimension makes any other dimension fine, as long as the product never overflows on the way.
  std::vector<uint8_t> empty = npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (0, 1000000000), }", 0);
  CHECK(parse_npy(empty.data(), empty.size(), "empty.npy").shape() == Shape{0, 1000000000});
  const std::string path = kRegressions + "fortran_numel_overflow.npy";
  const std::string want = path + "': .npy shape [65536, 281474976710657] has too many elements";
  CHECK_THROWS_WITH_AS(load_npy(path), doctest::Contains(want.c_str()), Error);
}

TEST_CASE("npy: a dimension too big for int64 is rejected with mtinet::Error (fuzz regression)") {
  // std::stoll threw std::out_of_range, reported as "error: stoll" with no file name.
  check_rejected(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", 0),
                 "a dimension does not fit in 64 bits");
  check_rejected(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (9223372036854775808,), }", 0),
                 "a dimension does not fit in 64 bits");
  const std::string path = kRegressions + "dim_exceeds_int64.npy";
  const std::string want = path + "': bad .npy shape (99999999999999999999,): a dimension does not fit in 64 bits";
  CHECK_THROWS_WITH_AS(load_npy(path), doctest::Contains(want.c_str()), Error);
}

TEST_CASE("npy: long headers parse without recursion (fuzz regression)") {
  // std::regex recursed once per character of a quoted value and overflowed the stack from ~30 KB on.
  std::string long_descr = "{'descr': '<f4" + std::string(200000, 'x') + "', 'fortran_order': False, 'shape': (1,), }";
  std::vector<uint8_t> v = npy2_bytes(long_descr, 4);
  check_rejected(v, "unsupported .npy dtype '<f4xxx");
  try {
    parse_npy(v.data(), v.size(), "bad.npy");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).size() < 600);  // the message quotes the start of the value only
  }
  // A valid header padded far beyond NumPy's 64 bytes still reads.
  std::vector<uint8_t> padded =
      npy2_bytes("{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }" + std::string(300000, ' ') + "\n", 4);
  padded.back() = 7;
  CHECK(parse_npy(padded.data(), padded.size(), "padded.npy").to_double_vector() == std::vector<double>{7 << 24});
}

TEST_CASE("npy: the header dict must be exactly NumPy's") {
  check_rejected(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", 4),
                 "unknown key 'x'");
  check_rejected(npy_bytes("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", 4),
                 "the key 'descr' twice");
  check_rejected(npy_bytes("{'descr': '<f4', 'shape': (1,)}", 4), "no valid 'fortran_order' entry");
  check_rejected(npy_bytes("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", 4), "should be True or False");
  check_rejected(npy_bytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}", 4),
                 "structured arrays are not supported");
  check_rejected(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x", 4), "text after the dict");
  check_rejected(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1 2)}", 4), "bad .npy shape (1 2)");
  // Double quotes, no trailing comma, no spaces: still NumPy's dict.
  std::vector<uint8_t> v = npy_bytes("{\"descr\":\"<i2\",\"fortran_order\":False,\"shape\":(1,)}", 2);
  v.back() = 1;
  CHECK(parse_npy(v.data(), v.size(), "dq.npy").to_double_vector() == std::vector<double>{256});
}
