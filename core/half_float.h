// The two 16-bit float formats weights files may hold (IEEE half, f16; bfloat16, bf16), to and from f32 on the
// host. mtinet computes in f32/f64, so these are only for reading and writing files: a .pth or safetensors file
// saved in half precision loads into an f32 model, and an f32 model can be exported in either format.
// Rounding to 16 bits is to nearest, ties to even, as PyTorch's conversions do; NaN stays NaN and overflow is Inf.
#pragma once
#include <cstdint>
#include <cstring>

namespace mtinet {

inline uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float bits_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// bf16 is the top half of an f32.
inline float bf16_to_float(uint16_t h) { return bits_float(uint32_t(h) << 16); }
inline uint16_t float_to_bf16(float f) {
  uint32_t u = float_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);  // NaN: keep it a (quiet) NaN
  u += 0x7fffu + ((u >> 16) & 1u);                                        // round to nearest, ties to even
  return uint16_t(u >> 16);
}

// f16: 1 sign, 5 exponent (bias 15), 10 mantissa bits; subnormals below 2^-14.
inline float f16_to_float(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  if (exp == 0x1f) return bits_float(sign | 0x7f800000u | (mant << 13));  // Inf, NaN
  if (exp != 0) return bits_float(sign | ((exp + 112) << 23) | (mant << 13));
  // zero or subnormal: mant * 2^-24, exact in f32
  float v = float(mant) * (1.0f / 16777216.0f);
  return sign ? -v : v;
}
inline uint16_t float_to_f16(float f) {
  uint32_t u = float_bits(f);
  uint16_t sign = uint16_t((u >> 16) & 0x8000u);
  uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return uint16_t(sign | 0x7e00u);  // NaN
  if (a >= 0x477ff000u) return uint16_t(sign | 0x7c00u);  // >= 65520 rounds to Inf (as does Inf)
  if (a < 0x38800000u) {
    // Below 2^-14: a subnormal f16, mant = round(|f| * 2^24), ties to even.
    float scaled = bits_float(a) * 16777216.0f;
    uint32_t m = uint32_t(scaled);
    float rest = scaled - float(m);
    if (rest > 0.5f || (rest == 0.5f && (m & 1u))) ++m;
    return uint16_t(sign | m);  // m == 0x400 carries into the smallest normal, as it should
  }
  // Normal: rebias the exponent, drop 13 mantissa bits with rounding (a carry may bump the exponent, correctly).
  uint32_t r = a - (112u << 23);
  r += 0xfffu + ((r >> 13) & 1u);
  return uint16_t(sign | (r >> 13));
}

}  // namespace mtinet
