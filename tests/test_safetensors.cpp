// safetensors: round trips of every dtype, a file written by the Python golden writer, and every kind of bad file
// (built in memory) failing with a message that names the file and the problem.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include <unistd.h>

#include "core/safetensors.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::test;

namespace {

const char* const kSource = "bad.safetensors";

// A file image: the 8-byte little-endian length (the header's size unless overridden), the header, data_bytes bytes.
std::vector<uint8_t> make_file(const std::string& header, size_t data_bytes, uint64_t declared_len = UINT64_MAX) {
  uint64_t n = declared_len == UINT64_MAX ? header.size() : declared_len;
  std::vector<uint8_t> f;
  for (int i = 0; i < 8; ++i) f.push_back(uint8_t(n >> (8 * i)));
  f.insert(f.end(), header.begin(), header.end());
  for (size_t i = 0; i < data_bytes; ++i) f.push_back(uint8_t(i));
  return f;
}

std::string error_of(const std::vector<uint8_t>& file) {
  try {
    parse_safetensors(file.data(), file.size(), kSource);
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

// Parsing `file` must fail with a message naming the source and containing `problem`.
void expect_bad(const std::vector<uint8_t>& file, const std::string& problem) {
  std::string msg = error_of(file);
  INFO("message: " << msg);
  CHECK(msg.find(kSource) != std::string::npos);
  CHECK(msg.find(problem) != std::string::npos);
}

std::string entry(const std::string& name, const std::string& dtype, const std::string& shape, uint64_t begin,
                  uint64_t end) {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" +
         std::to_string(begin) + "," + std::to_string(end) + "]}";
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("mtinet_test_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

std::vector<uint8_t> bytes_of(const Tensor& t) {
  const uint8_t* p = static_cast<const uint8_t*>(t.raw_data());
  return p ? std::vector<uint8_t>(p, p + t.nbytes()) : std::vector<uint8_t>{};
}

Tensor patterned(const Shape& s, DType dt, uint8_t seed) {
  Tensor t = Tensor::empty(s, dt);
  uint8_t* p = static_cast<uint8_t*>(t.raw_data());
  for (size_t i = 0; i < t.nbytes(); ++i) p[i] = uint8_t(seed + 37 * i);
  return t;
}

}  // namespace

TEST_CASE("safetensors round trip of every dtype, scalars, empty tensors and metadata") {
  std::vector<std::pair<std::string, Tensor>> in = {
      {"w.f32", Tensor::from_vector<float>({2, 3}, {1.5f, -2.f, 3.25f, 0.f, -0.f, 1e-30f})},
      {"f64", Tensor::from_vector<double>({3}, {0.1, -1e300, 4.9e-324})},
      {"i32", Tensor::from_vector<int32_t>({2, 1}, {-7, std::numeric_limits<int32_t>::max()})},
      {"i64", Tensor::from_vector<int64_t>({2}, {std::numeric_limits<int64_t>::min(), 123456789012345})},
      {"u8", Tensor::from_vector<uint8_t>({4}, {0, 1, 128, 255})},
      {"bf16", patterned({2, 2}, DType::BF16, 3)},
      {"f16", patterned({3}, DType::F16, 9)},
      {"scalar", Tensor::from_vector<double>({}, {2.5})},
      {"empty", Tensor::empty({3, 0, 2}, DType::F32)},
      {"odd", Tensor::from_vector<uint8_t>({3}, {9, 8, 7})},  // 3 bytes: later tensors start unaligned
      {"after_odd", Tensor::from_vector<double>({2}, {-3.5, 7.0})},
      // a view at a non-zero storage offset: only its own elements are written
      {"view", Tensor::from_vector<float>({3, 2}, {1, 2, 3, 4, 5, 6}).slice_batch(1, 3)},
  };
  std::map<std::string, std::string> meta = {{"format", "pt"}, {"epoch", "12"}, {"empty", ""}};
  std::string path = temp_path("roundtrip.safetensors");
  save_safetensors(path, in, meta);
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));

  // The data buffer starts 8-byte aligned.
  std::ifstream f(path, std::ios::binary);
  uint8_t len[8];
  f.read(reinterpret_cast<char*>(len), 8);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len[i];
  CHECK((8 + n) % 8 == 0);

  SafetensorsContents out = load_safetensors(path);
  CHECK(out.source == path);
  CHECK(out.metadata == meta);
  REQUIRE(out.tensors.size() == in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    INFO("tensor " << in[i].first);
    CHECK(out.tensors[i].first == in[i].first);  // data-offset order == the order given to save
    const Tensor& a = out.tensors[i].second;
    const Tensor& e = in[i].second;
    CHECK(a.dtype() == e.dtype());
    CHECK(a.shape() == e.shape());
    CHECK(a.device() == Device::CPU);
    CHECK(bytes_of(a) == bytes_of(e));
    CHECK(out.at(in[i].first).same(a));
    CHECK(out.contains(in[i].first));
  }
  CHECK(out.at("scalar").ndim() == 0);
  CHECK(out.at("scalar").item() == 2.5);
  CHECK(out.at("empty").numel() == 0);
  CHECK(out.at("view").to_double_vector() == std::vector<double>{3, 4, 5, 6});
  CHECK_FALSE(out.contains("missing"));
  std::remove(path.c_str());
}

TEST_CASE("safetensors save of nothing, and overwriting an existing file") {
  std::string path = temp_path("overwrite.safetensors");
  save_safetensors(path, {{"a", Tensor::from_vector<float>({2}, {1, 2})}});
  save_safetensors(path, {});
  SafetensorsContents c = load_safetensors(path);
  CHECK(c.tensors.empty());
  CHECK(c.metadata.empty());
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
  std::remove(path.c_str());
}

TEST_CASE("safetensors reads the file written by tools/golden/common.py exactly") {
  SafetensorsContents c = load_fixture("safetensors_python.safetensors");
  CHECK(c.metadata == std::map<std::string, std::string>{{"format", "pt"}, {"note", "sample"}});
  REQUIRE(c.tensors.size() == 7);
  // offset order; "empty" (0 bytes at 0) sorts before "f32" which also starts at 0
  std::vector<std::string> names;
  for (const auto& kv : c.tensors) names.push_back(kv.first);
  CHECK(names == std::vector<std::string>{"empty", "f32", "f64", "i32", "i64", "scalar", "u8"});

  const Tensor& f64 = c.at("f64");
  CHECK(f64.dtype() == DType::F64);
  CHECK(f64.shape() == Shape{2, 3});
  CHECK(f64.to_double_vector() == std::vector<double>{1.5, -2.25, 3.0, 0.1, 1e-300, -0.0});
  CHECK(std::signbit(f64.data<double>()[5]));

  const Tensor& f32 = c.at("f32");
  CHECK(f32.dtype() == DType::F32);
  CHECK(f32.shape() == Shape{3});
  CHECK(f32.data<float>()[0] == 0.5f);
  CHECK(f32.data<float>()[1] == -1.75f);
  CHECK(f32.data<float>()[2] == 3.0e38f);

  const Tensor& i64 = c.at("i64");
  CHECK(i64.dtype() == DType::I64);
  CHECK(i64.shape() == Shape{2, 2});
  const int64_t* p = i64.data<int64_t>();
  CHECK(p[0] == -(int64_t(1) << 62));
  CHECK(p[1] == 7);
  CHECK(p[2] == 0);
  CHECK(p[3] == (int64_t(1) << 40));

  const Tensor& i32 = c.at("i32");
  CHECK(i32.dtype() == DType::I32);
  CHECK(i32.data<int32_t>()[0] == -5);
  CHECK(i32.data<int32_t>()[1] == std::numeric_limits<int32_t>::max());

  const Tensor& u8 = c.at("u8");
  CHECK(u8.dtype() == DType::U8);
  CHECK(bytes_of(u8) == std::vector<uint8_t>{0, 128, 255});

  CHECK(c.at("scalar").shape() == Shape{});
  CHECK(c.at("scalar").item() == 42.0);
  CHECK(c.at("empty").shape() == Shape{2, 0});
  CHECK(c.at("empty").dtype() == DType::F32);
}

TEST_CASE("safetensors at() names the missing tensor and the file") {
  SafetensorsContents c = load_fixture("safetensors_python.safetensors");
  try {
    c.at("f65");
    FAIL("no error");
  } catch (const Error& e) {
    std::string msg = e.what();
    CHECK(msg.find("'f65'") != std::string::npos);
    CHECK(msg.find("safetensors_python.safetensors") != std::string::npos);
    CHECK(msg.find("f64") != std::string::npos);  // lists what it does hold
  }
}

TEST_CASE("safetensors accepts well-formed edge cases") {
  SUBCASE("no tensors") {
    SafetensorsContents c = parse_safetensors(make_file("{}", 0).data(), 10, kSource);
    CHECK(c.tensors.empty());
  }
  SUBCASE("space padding and a tensor name needing JSON escapes") {
    std::string h = "{" + entry("a\\\"b\\u00e9", "U8", "[2]", 0, 2) + "}     ";
    std::vector<uint8_t> f = make_file(h, 2);
    SafetensorsContents c = parse_safetensors(f.data(), f.size(), kSource);
    REQUIRE(c.tensors.size() == 1);
    CHECK(c.tensors[0].first == "a\"b\xc3\xa9");
    CHECK(bytes_of(c.tensors[0].second) == std::vector<uint8_t>{0, 1});
  }
  SUBCASE("null metadata, zero-size tensors anywhere") {
    std::string h = "{\"__metadata__\":null," + entry("z0", "F32", "[0]", 0, 0) + "," + entry("a", "I32", "[1]", 0, 4) +
                    "," + entry("z1", "F64", "[0,5]", 4, 4) + "}";
    std::vector<uint8_t> f = make_file(h, 4);
    SafetensorsContents c = parse_safetensors(f.data(), f.size(), kSource);
    CHECK(c.tensors.size() == 3);
    CHECK(c.metadata.empty());
    CHECK(c.at("z1").shape() == Shape{0, 5});
  }
  SUBCASE("unknown fields in an entry are ignored, as by the reference implementation") {
    std::string h = "{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"extra\":[1,2]}}";
    std::vector<uint8_t> f = make_file(h, 1);
    CHECK(parse_safetensors(f.data(), f.size(), kSource).tensors.size() == 1);
  }
}

TEST_CASE("safetensors rejects truncated files") {
  std::string h = "{" + entry("t", "F32", "[2,2]", 0, 16) + "}";
  std::vector<uint8_t> good = make_file(h, 16);
  REQUIRE(error_of(good) == "<no error>");

  SUBCASE("shorter than the length prefix") {
    expect_bad(std::vector<uint8_t>(good.begin(), good.begin() + 5), "shorter than the 8-byte header length");
    expect_bad({}, "file is 0 bytes");
  }
  SUBCASE("header cut short") {
    expect_bad(std::vector<uint8_t>(good.begin(), good.begin() + 8 + long(h.size()) - 3),
               "header length " + std::to_string(h.size()) + " exceeds");
  }
  SUBCASE("data cut short") {
    expect_bad(std::vector<uint8_t>(good.begin(), good.end() - 1), "extend past the 15-byte data buffer");
  }
}

TEST_CASE("safetensors rejects bad header lengths") {
  std::string h = "{" + entry("t", "U8", "[1]", 0, 1) + "}";
  SUBCASE("longer than the file") { expect_bad(make_file(h, 1, 1000), "header length 1000 exceeds the"); }
  SUBCASE("longer than the format's 100 MB limit") {
    expect_bad(make_file(h, 1, 100000001), "exceeds the format's limit of 100000000 bytes");
    expect_bad(make_file(h, 1, UINT64_MAX - 1), "exceeds the format's limit");
    // the limit itself is allowed: this one fails on the file size instead
    expect_bad(make_file(h, 1, 100000000), "header length 100000000 exceeds the " + std::to_string(h.size() + 1) +
                                               " bytes that follow the length prefix");
  }
}

TEST_CASE("safetensors rejects headers that are not a JSON object") {
  SUBCASE("invalid JSON") { expect_bad(make_file("{\"t\":{\"dtype\":", 0), "header is not valid JSON"); }
  SUBCASE("trailing garbage") { expect_bad(make_file("{}x", 0), "header is not valid JSON"); }
  SUBCASE("not an object") { expect_bad(make_file("[1,2]", 0), "header does not start with '{'"); }
  SUBCASE("leading whitespace") { expect_bad(make_file(" {}", 0), "header does not start with '{'"); }
  SUBCASE("empty header") { expect_bad(make_file("", 0), "header does not start with '{'"); }
  SUBCASE("NUL byte (nlohmann would stop reading there)") {
    expect_bad(make_file(std::string("{}\0xyz", 6), 0), "header is not valid JSON: NUL byte at offset 2");
  }
  SUBCASE("invalid UTF-8") { expect_bad(make_file("{\"\xff\":1}", 0), "header is not valid JSON"); }
  SUBCASE("duplicate tensor") {
    std::string h = "{" + entry("t", "U8", "[1]", 0, 1) + "," + entry("t", "U8", "[1]", 1, 2) + "}";
    expect_bad(make_file(h, 2), "duplicate key 't'");
  }
  SUBCASE("duplicate field inside an entry") {
    expect_bad(make_file("{\"t\":{\"dtype\":\"U8\",\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1),
               "duplicate key 'dtype'");
  }
}

TEST_CASE("safetensors rejects malformed entries") {
  SUBCASE("entry not an object") { expect_bad(make_file("{\"t\":[1]}", 0), "entry 't' is not a JSON object"); }
  SUBCASE("missing fields") {
    expect_bad(make_file("{\"t\":{\"shape\":[1],\"data_offsets\":[0,1]}}", 1), "tensor 't' has no \"dtype\" field");
    expect_bad(make_file("{\"t\":{\"dtype\":\"U8\",\"data_offsets\":[0,1]}}", 1), "has no \"shape\" field");
    expect_bad(make_file("{\"t\":{\"dtype\":\"U8\",\"shape\":[1]}}", 1), "has no \"data_offsets\" field");
  }
  SUBCASE("wrong JSON types") {
    expect_bad(make_file("{\"t\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,1]}}", 1),
               "\"dtype\" of tensor 't' is 4, not a string");
    expect_bad(make_file("{\"t\":{\"dtype\":\"U8\",\"shape\":1,\"data_offsets\":[0,1]}}", 1),
               "\"shape\" of tensor 't' is not an array");
    expect_bad(make_file("{\"t\":{\"dtype\":\"U8\",\"shape\":[1.0],\"data_offsets\":[0,1]}}", 1), "not an integer");
    expect_bad(make_file("{\"t\":{\"dtype\":\"U8\",\"shape\":[\"1\"],\"data_offsets\":[0,1]}}", 1), "not an integer");
    expect_bad(make_file("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0]}}", 1),
               "not an array of two non-negative integers");
    expect_bad(make_file("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[-1,0]}}", 1),
               "not an array of two non-negative integers");
    expect_bad(make_file("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":{\"a\":0}}}", 1),
               "not an array of two non-negative integers");
  }
  SUBCASE("unknown dtype") { expect_bad(make_file("{" + entry("t", "F31", "[1]", 0, 4) + "}", 4), "unknown dtype 'F31'"); }
  SUBCASE("lowercase dtype is unknown") {
    expect_bad(make_file("{" + entry("t", "f32", "[1]", 0, 4) + "}", 4), "unknown dtype 'f32'");
  }
  SUBCASE("format dtypes mtinet does not support") {
    for (const char* dt : {"BOOL", "I8", "I16", "U16", "U32", "U64", "F8_E4M3", "F8_E5M2"}) {
      expect_bad(make_file("{" + entry("t", dt, "[1]", 0, 1) + "}", 1),
                 std::string("has dtype ") + dt + ", which is not supported by mtinet");
    }
  }
  SUBCASE("negative dimension") {
    expect_bad(make_file("{" + entry("t", "U8", "[2,-1]", 0, 0) + "}", 0), "negative dimension -1");
    expect_bad(make_file("{" + entry("t", "U8", "[-0]", 0, 0) + "}", 0), "holds -0, not a non-negative integer");
  }
  SUBCASE("overflowing element or byte count") {
    expect_bad(make_file("{" + entry("t", "U8", "[4294967296,4294967296]", 0, 0) + "}", 0),
               "overflows the element count");
    expect_bad(make_file("{" + entry("t", "F64", "[4611686018427387904]", 0, 0) + "}", 0), "overflows the byte count");
    expect_bad(make_file("{" + entry("t", "U8", "[18446744073709551615]", 0, 0) + "}", 0), "too large");
    expect_bad(make_file("{" + entry("t", "U8", "[1e30]", 0, 0) + "}", 0), "not an integer");
  }
  SUBCASE("end before begin") {
    expect_bad(make_file("{" + entry("t", "U8", "[0]", 4, 2) + "}", 4), "end before they begin");
  }
  SUBCASE("size does not match the shape") {
    expect_bad(make_file("{" + entry("t", "F32", "[2,3]", 0, 20) + "}", 20),
               "tensor 't' has data_offsets [0, 20] spanning 20 bytes, but dtype F32 and shape [2, 3] need 24");
  }
}

TEST_CASE("safetensors rejects offsets that do not tile the data buffer") {
  SUBCASE("overlap") {
    std::string h = "{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[2]", 4, 12) + "}";
    expect_bad(make_file(h, 12), "tensor 'b' (bytes 4..12) overlaps tensor 'a' (bytes 0..8)");
  }
  SUBCASE("two tensors on the same bytes") {
    std::string h = "{" + entry("a", "U8", "[4]", 0, 4) + "," + entry("b", "I32", "[1]", 0, 4) + "}";
    expect_bad(make_file(h, 4), "overlaps");
  }
  SUBCASE("hole between tensors") {
    std::string h = "{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("b", "F32", "[1]", 8, 12) + "}";
    expect_bad(make_file(h, 12), "hole of 4 bytes in the data buffer before tensor 'b'");
  }
  SUBCASE("first tensor not at 0") {
    expect_bad(make_file("{" + entry("a", "U8", "[2]", 2, 4) + "}", 4), "hole of 2 bytes");
  }
  SUBCASE("bytes left over after the last tensor") {
    expect_bad(make_file("{" + entry("a", "U8", "[2]", 0, 2) + "}", 5), "3 trailing bytes after the last tensor");
    expect_bad(make_file("{}", 1), "1 trailing bytes");
  }
}

TEST_CASE("safetensors rejects bad metadata") {
  std::string t = entry("t", "U8", "[1]", 0, 1);
  SUBCASE("non-string value") {
    expect_bad(make_file("{\"__metadata__\":{\"epoch\":3}," + t + "}", 1),
               "\"__metadata__\" value for key 'epoch' is 3, not a string");
  }
  SUBCASE("not an object") {
    expect_bad(make_file("{\"__metadata__\":[\"a\"]," + t + "}", 1), "\"__metadata__\" is [\"a\"], not a JSON object");
  }
  SUBCASE("duplicate metadata key") {
    expect_bad(make_file("{\"__metadata__\":{\"k\":\"a\",\"k\":\"b\"}," + t + "}", 1), "duplicate key 'k'");
  }
}

TEST_CASE("safetensors file errors name the path") {
  std::string missing = temp_path("does_not_exist.safetensors");
  try {
    load_safetensors(missing);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find(missing) != std::string::npos);
    CHECK(std::string(e.what()).find("cannot open") != std::string::npos);
  }

  // A bad file on disk is reported under its path, like an in-memory one under its source name.
  std::string path = temp_path("truncated.safetensors");
  {
    std::ofstream f(path, std::ios::binary);
    f << "abc";
  }
  try {
    load_safetensors(path);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find(path) != std::string::npos);
    CHECK(std::string(e.what()).find("shorter than the 8-byte header length") != std::string::npos);
  }
  std::remove(path.c_str());
}

TEST_CASE("safetensors save errors") {
  Tensor a = Tensor::from_vector<float>({1}, {1});
  SUBCASE("directory does not exist") {
    std::string path = temp_path("no_such_dir") + "/x.safetensors";
    try {
      save_safetensors(path, {{"a", a}});
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(std::string(e.what()).find(path) != std::string::npos);
    }
    CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
  }
  std::string path = temp_path("bad_names.safetensors");
  auto save_error = [&](const std::vector<std::pair<std::string, Tensor>>& tensors) -> std::string {
    try {
      save_safetensors(path, tensors);
    } catch (const Error& e) {
      return e.what();
    }
    return "<no error>";
  };
  SUBCASE("duplicate names") { CHECK(save_error({{"a", a}, {"a", a}}).find("duplicate tensor name 'a'") != std::string::npos); }
  SUBCASE("empty name") { CHECK(save_error({{"", a}}).find("empty name") != std::string::npos); }
  SUBCASE("reserved name") { CHECK(save_error({{"__metadata__", a}}).find("reserved") != std::string::npos); }
  SUBCASE("undefined tensor") { CHECK(save_error({{"u", Tensor()}}).find("tensor 'u' is undefined") != std::string::npos); }
  SUBCASE("invalid UTF-8 name") { CHECK(save_error({{"\xff", a}}).find("not valid UTF-8") != std::string::npos); }
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST_CASE("safetensors: corrupting any header byte fails cleanly with mtinet::Error or still parses") {
  std::string h = "{\"__metadata__\":{\"k\":\"v\"}," + entry("a", "F32", "[2,3]", 0, 24) + "," +
                  entry("b", "I64", "[]", 24, 32) + "," + entry("c", "U8", "[0,2]", 32, 32) + "}";
  const std::vector<uint8_t> good = make_file(h, 32);
  REQUIRE(error_of(good) == "<no error>");
  int rejected = 0;
  for (size_t i = 0; i < 8 + h.size(); ++i) {
    for (uint8_t v : {uint8_t(0), uint8_t('-'), uint8_t('9'), uint8_t('"'), uint8_t('}'), uint8_t(0xff)}) {
      std::vector<uint8_t> f = good;
      f[i] = v;
      try {
        SafetensorsContents c = parse_safetensors(f.data(), f.size(), kSource);
        // still valid: every byte is accounted for
        size_t total = 0;
        for (const auto& kv : c.tensors) total += kv.second.nbytes();
        CHECK(total == 32);
      } catch (const Error& e) {
        ++rejected;
        CHECK(std::string(e.what()).find(kSource) != std::string::npos);
      }  // anything else (nlohmann exceptions, bad_alloc) escapes and fails the test
    }
  }
  CHECK(rejected > 0);
}

TEST_CASE("safetensors rejects deeply nested headers without recursing (fuzz regression)") {
  // 200000 levels: quoting the shape in the message (json::dump, recursive) overflowed an 8 MB stack at ~100000.
  const size_t depth = 200000;
  expect_bad(make_file("{" + entry("t", "U8", std::string(depth, '[') + std::string(depth, ']'), 0, 0) + "}", 0),
             "header is nested more than 16 levels deep");
  // A near miss still gets the precise message about its shape.
  expect_bad(make_file("{" + entry("t", "U8", "[[1]]", 0, 1) + "}", 1), "holds [1], not an integer");
  // The committed crash input (tests/fuzz/regressions) fails the same way through the file reader.
  const std::string path =
      MTINET_FIXTURE_DIR "/../fuzz/regressions/safetensors/deeply_nested_shape.safetensors";
  const std::string want = path + "': header is nested more than 16 levels deep";
  CHECK_THROWS_WITH_AS(load_safetensors(path), doctest::Contains(want.c_str()), Error);
}

TEST_CASE("safetensors messages quote long values cut short") {
  // A 100 MB header may be one huge value: the message shows its start, not all of it.
  std::string huge = "[\"" + std::string(100000, 'x') + "\"]";
  std::string msg = error_of(make_file("{\"t\":{\"dtype\":" + huge + ",\"shape\":[1],\"data_offsets\":[0,1]}}", 1));
  CHECK(msg.find("\"dtype\" of tensor 't' is [\"xxxx") != std::string::npos);
  CHECK(msg.find("..., not a string") != std::string::npos);
  CHECK(msg.size() < 300);
}
