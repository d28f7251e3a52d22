// The 16-bit float conversions (core/half_float.h) that let half-precision weights files load into f32 models:
// exact values of each format's landmarks, ties to even, overflow, subnormals, NaN, and every one of the 65536
// encodings surviving a round trip through f32.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "core/half_float.h"
#include "core/tensor.h"

using namespace mtinet;

TEST_CASE("f16 <-> f32: landmarks, rounding to nearest even, overflow to Inf, subnormals") {
  CHECK(float_to_f16(1.0f) == 0x3c00);
  CHECK(float_to_f16(-2.0f) == 0xc000);
  CHECK(float_to_f16(65504.0f) == 0x7bff);                    // the largest f16
  CHECK(float_to_f16(65519.0f) == 0x7bff);                    // below the midpoint to 65536: stays finite
  CHECK(float_to_f16(65520.0f) == 0x7c00);                    // the midpoint rounds to even: Inf
  CHECK(float_to_f16(1.0f / 3.0f) == 0x3555);
  CHECK(float_to_f16(1.0f + 1.0f / 2048.0f) == 0x3c00);       // halfway between 1 and 1+2^-10: ties to even (down)
  CHECK(float_to_f16(1.0f + 3.0f / 2048.0f) == 0x3c02);       // halfway between 1+2^-10 and 1+2^-9: up to even
  CHECK(float_to_f16(std::ldexp(1.0f, -24)) == 0x0001);       // the smallest subnormal
  CHECK(float_to_f16(std::ldexp(1.0f, -25)) == 0x0000);       // half of it: ties to even, zero
  CHECK(float_to_f16(std::ldexp(3.0f, -25)) == 0x0002);       // 1.5 of it: ties to even, 2
  CHECK(float_to_f16(std::ldexp(1023.5f, -24)) == 0x0400);    // the largest subnormal's tie carries to the normal
  CHECK(float_to_f16(std::numeric_limits<float>::infinity()) == 0x7c00);
  CHECK(std::isnan(f16_to_float(float_to_f16(std::nanf("")))));
  CHECK(double(f16_to_float(0x3555)) == 0.333251953125);  // 2^-2 * (1 + 341/1024), exactly
  CHECK(f16_to_float(0x0001) == std::ldexp(1.0f, -24));
  CHECK(f16_to_float(0xfc00) == -std::numeric_limits<float>::infinity());
}

TEST_CASE("bf16 <-> f32: truncation point, ties to even, NaN kept") {
  CHECK(float_to_bf16(1.0f) == 0x3f80);
  CHECK(float_to_bf16(1.0f / 3.0f) == 0x3eab);        // 0x3eaaaaab: the dropped half is above the midpoint
  CHECK(float_to_bf16(bits_float(0x3f808000u)) == 0x3f80);  // a tie with an even upper half stays
  CHECK(float_to_bf16(bits_float(0x3f818000u)) == 0x3f82);  // a tie with an odd upper half rounds up
  CHECK(float_to_bf16(bits_float(0x7f7fffffu)) == 0x7f80);  // FLT_MAX rounds to Inf
  CHECK(std::isnan(bf16_to_float(float_to_bf16(bits_float(0x7f800001u)))));  // a NaN with low payload stays NaN
  CHECK(bf16_to_float(0x3eab) == bits_float(0x3eab0000u));
}

TEST_CASE("every f16 and bf16 encoding survives f16/bf16 -> f32 -> f16/bf16") {
  int bad_f16 = 0, bad_bf16 = 0;
  for (uint32_t h = 0; h <= 0xffff; ++h) {
    float f = f16_to_float(uint16_t(h)), b = bf16_to_float(uint16_t(h));
    if (!std::isnan(f) && float_to_f16(f) != h) ++bad_f16;
    if (std::isnan(f) && !std::isnan(f16_to_float(float_to_f16(f)))) ++bad_f16;
    if (!std::isnan(b) && float_to_bf16(b) != h) ++bad_bf16;
  }
  CHECK(bad_f16 == 0);
  CHECK(bad_bf16 == 0);
}

TEST_CASE("Tensor::to converts f32/f64 to f16 and bf16 and back on the CPU") {
  Tensor x = Tensor::from_vector<float>({4}, {1.0f, 1.0f / 3.0f, -65520.0f, std::ldexp(1.0f, -24)});
  std::vector<double> h = x.to(DType::F16).to(DType::F64).to_double_vector();
  CHECK(h[0] == 1.0);
  CHECK(h[1] == 0.333251953125);
  CHECK(h[2] == -std::numeric_limits<double>::infinity());
  CHECK(h[3] == std::ldexp(1.0, -24));
  std::vector<double> b = x.to(DType::F64).to(DType::BF16).to(DType::F32).to_double_vector();
  CHECK(b[1] == double(bits_float(0x3eab0000u)));
  CHECK(b[2] == -65536.0);  // bf16 keeps f32's range: 65520 rounds to 2^16 there
}
