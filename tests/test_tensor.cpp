// Tensor basics: construction, views, dtype conversion, layouts, RNG determinism.
#include <cstdint>
#include <cstring>

#include "core/allocator.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::test;

TEST_CASE("storage is 64-byte aligned and zeros() zeroes") {
  for (int64_t n : {1, 3, 17, 1000}) {
    Tensor t = Tensor::zeros({n}, DType::U8);
    CHECK(reinterpret_cast<uintptr_t>(t.raw_data()) % kCpuAlignment == 0);
    for (int64_t i = 0; i < n; ++i) CHECK(t.data<uint8_t>()[i] == 0);
  }
}

TEST_CASE("slice_batch is a view sharing storage and version") {
  Tensor t = Tensor::from_vector<float>({3, 2}, {0, 1, 2, 3, 4, 5});
  Tensor v = t.slice_batch(1, 3);
  CHECK(v.shape() == Shape{2, 2});
  CHECK(v.to_double_vector() == std::vector<double>{2, 3, 4, 5});
  uint64_t before = t.version();
  v.zero_();
  CHECK(t.version() == before + 1);
  CHECK(t.to_double_vector() == std::vector<double>{0, 1, 0, 0, 0, 0});
  CHECK_THROWS_AS(t.slice_batch(2, 4), Error);
}

TEST_CASE("dtype conversion and typed access checks") {
  Tensor t = Tensor::from_vector<double>({3}, {1.5, -2.0, 255.0});
  CHECK(t.to(DType::F32).to_double_vector() == std::vector<double>{1.5, -2.0, 255.0});
  CHECK(t.to(DType::I64).data<int64_t>()[0] == 1);
  CHECK(t.to(DType::U8).data<uint8_t>()[2] == 255);
  CHECK_THROWS_WITH_AS(t.data<float>(), doctest::Contains("accessed as f32"), Error);
  CHECK(Tensor::full({2, 2}, 7.0, DType::I32).data<int32_t>()[3] == 7);
}

TEST_CASE("NCHW <-> NHWC and OIHW <-> OHWI round trips move the right elements") {
  // x[n][c][h][w] = 1000n + 100c + 10h + w
  Tensor x = Tensor::empty({2, 3, 2, 4}, DType::F64);
  double* p = x.data<double>();
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < 3; ++c)
      for (int h = 0; h < 2; ++h)
        for (int w = 0; w < 4; ++w) *p++ = 1000 * n + 100 * c + 10 * h + w;
  Tensor y = nchw_to_nhwc(x);
  CHECK(y.shape() == Shape{2, 2, 4, 3});
  // y[1][1][2][0] is x[1][0][1][2]
  CHECK(y.data<double>()[((1 * 2 + 1) * 4 + 2) * 3 + 0] == 1012);
  CHECK(nhwc_to_nchw(y).to_double_vector() == x.to_double_vector());
  CHECK(ohwi_to_oihw(oihw_to_ohwi(x)).to_double_vector() == x.to_double_vector());
}

TEST_CASE("RNG is deterministic per seed and has the right moments") {
  Rng a(42), b(42), c(43);
  CHECK(a.next_u64() == b.next_u64());
  CHECK(a.next_u64() != c.next_u64());
  Rng r(7);
  const int n = 200000;
  double s = 0, s2 = 0, u = 0;
  for (int i = 0; i < n; ++i) {
    double z = r.normal();
    s += z;
    s2 += z * z;
    u += r.uniform();
  }
  CHECK(std::abs(s / n) < 0.01);
  CHECK(std::abs(s2 / n - 1.0) < 0.02);
  CHECK(std::abs(u / n - 0.5) < 0.005);
  for (int i = 0; i < 1000; ++i) {
    int64_t k = r.randint(7);
    CHECK((k >= 0 && k < 7));
  }
  // State save/restore reproduces the stream.
  Rng::State st = r.state();
  double next = r.normal();
  r.set_state(st);
  CHECK(r.normal() == next);
}

TEST_CASE("kaiming init has std sqrt(2/fan)") {
  Rng r(3);
  Tensor w = Tensor::empty({64, 3, 3, 32}, DType::F32);
  fill_kaiming_normal(w, r, 64 * 9);
  std::vector<double> v = w.to_double_vector();
  double s2 = 0;
  for (double x : v) s2 += x * x;
  CHECK(std::sqrt(s2 / double(v.size())) == doctest::Approx(std::sqrt(2.0 / (64 * 9))).epsilon(0.02));
}

TEST_CASE("device names: auto is the default device, unknown names are refused") {
  CHECK(parse_device("auto") == default_device());
  CHECK(parse_device("cpu") == Device::CPU);
  CHECK_THROWS_WITH_AS(parse_device("tpu"), doctest::Contains("'tpu'"), Error);
}
