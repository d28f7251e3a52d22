// exp() for float arrays on the CPU that the compiler can vectorise: the C library's exp is a scalar call (for
// float arguments through the double version), which made cross-entropy over 40 classes the largest single cost of
// a CPU training step (two exps per logit, 13 M per step at batch 2, 256x320). PyTorch's CPU kernels use a
// vectorised exp of the same accuracy class (SLEEF, 1 ulp).
//
// Method (Cephes' expf): x = n ln2 + r with |r| <= ln2 / 2, ln2 split in two constants so that n ln2 is exact
// enough; exp(r) by a degree-7 polynomial; 2^n by building the float's exponent bits. Measured against the double
// exp over the whole float range in tests/test_cpu_exp.cpp: at most 2 ulp. Below -87.3 the result is 0 (true
// values are subnormal), above 88.7 +Inf; NaN stays NaN. Branch-free, so a loop over it vectorises, provided the file
// is compiled with -fno-trapping-math (CMakeLists.txt): otherwise GCC keeps the selects of possibly trapping
// float operations as branches.
#pragma once
#include <cstdint>
#include <cstring>

namespace mtinet::kernels {

// always_inline: inlined into each ISA variant of a loop, so it vectorises with that variant's registers.
[[gnu::always_inline]] inline float exp_vectorisable(float x) {
  const float hi = 88.7228317f, lo = -87.3365479f;
  // NaN goes through the arithmetic as 0 (and comes back out at the end): converting NaN to an integer is undefined.
  float xc = x > hi ? hi : (x < lo ? lo : (x == x ? x : 0.0f));
  // n = the nearest integer to x / ln2, by truncation after adding +-0.5: floorf is no SSE2 instruction, and a
  // library call in the loop would stop the baseline variant vectorising.
  float t = xc * 1.44269504088896341f;
  float n = float(int32_t(t + (t >= 0.f ? 0.5f : -0.5f)));
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  // n in [-126, 128]: a normal power of two, or Inf's exponent at 128; shifted unsigned, as a signed shift of a
  // negative value is undefined.
  uint32_t bits = uint32_t(int32_t(n) + 127) << 23;
  float two_n;
  std::memcpy(&two_n, &bits, 4);
  // Both candidates are computed and one selected: a conditional product (which may overflow, so may trap) would
  // keep GCC from if-converting the loop, and a loop with branches does not vectorise.
  float y = p * two_n;
  float y_top = p * 2.0f * 1.70141183e38f;  // n = 128: 2^128 does not fit the exponent, so 2 * 2^127
  y = n > 127.5f ? y_top : y;
  y = x < lo ? 0.0f : y;
  y = x > hi ? __builtin_inff() : y;
  return x != x ? x : y;  // NaN in, NaN out
}

}  // namespace mtinet::kernels
