// Internal to the MAT-file reader (data/mat_*.cpp): exact numeric conversions between MATLAB's storage types and
// classes.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "data/mat.h"

namespace mtinet::mat_detail {

// MAT-file data types (the "mi" types of MATLAB's format description).
enum MiType : uint32_t {
  miINT8 = 1, miUINT8 = 2, miINT16 = 3, miUINT16 = 4, miINT32 = 5, miUINT32 = 6, miSINGLE = 7, miDOUBLE = 9,
  miINT64 = 12, miUINT64 = 13, miMATRIX = 14, miCOMPRESSED = 15, miUTF8 = 16, miUTF16 = 17, miUTF32 = 18
};

// Bytes per element of a numeric storage type, 0 for types that do not hold numbers.
inline size_t mi_numeric_size(uint32_t t) {
  switch (t) {
    case miINT8: case miUINT8: return 1;
    case miINT16: case miUINT16: return 2;
    case miINT32: case miUINT32: case miSINGLE: return 4;
    case miDOUBLE: case miINT64: case miUINT64: return 8;
    default: return 0;
  }
}

// The storage type that holds a class's values natively (how MatValue::bytes keeps them).
inline uint32_t native_mi_type(MatClass c) {
  switch (c) {
    case MatClass::Double: return miDOUBLE;
    case MatClass::Single: return miSINGLE;
    case MatClass::Int8: return miINT8;
    case MatClass::UInt8: case MatClass::Logical: return miUINT8;
    case MatClass::Int16: return miINT16;
    case MatClass::UInt16: return miUINT16;
    case MatClass::Int32: return miINT32;
    case MatClass::UInt32: return miUINT32;
    case MatClass::Int64: return miINT64;
    case MatClass::UInt64: return miUINT64;
    default: return 0;
  }
}

template <class S>
S load(const uint8_t* p, bool swap) {
  uint8_t b[sizeof(S)];
  std::memcpy(b, p, sizeof(S));
  if (swap) {
    for (size_t i = 0; i < sizeof(S) / 2; ++i) std::swap(b[i], b[sizeof(S) - 1 - i]);
  }
  S v;
  std::memcpy(&v, b, sizeof(S));
  return v;
}

// Whether v converts to T without changing its value: MATLAB only narrows the storage of values that fit, so a value
// that does not fit means a corrupt file (or, in to_vector, a caller asking for the wrong type).
template <class T, class S>
bool fits(S v) {
  if constexpr (std::is_floating_point_v<T>) {
    return true;  // integers and doubles into double/single: MATLAB's own conversion, rounding allowed
  } else if constexpr (std::is_floating_point_v<S>) {
    // Bounds are powers of two (or 0), exact in double: [min, 2^digits).
    double lo = double(std::numeric_limits<T>::min());
    double hi = std::ldexp(1.0, std::numeric_limits<T>::digits);
    return std::isfinite(v) && v == std::trunc(v) && double(v) >= lo && double(v) < hi;
  } else if constexpr (std::is_signed_v<S> && std::is_signed_v<T>) {
    return int64_t(v) >= int64_t(std::numeric_limits<T>::min()) && int64_t(v) <= int64_t(std::numeric_limits<T>::max());
  } else if constexpr (std::is_signed_v<S>) {
    return v >= 0 && uint64_t(v) <= uint64_t(std::numeric_limits<T>::max());
  } else {
    return uint64_t(v) <= uint64_t(std::numeric_limits<T>::max());
  }
}

template <class T, class S>
size_t convert_from(const uint8_t* p, size_t n, bool swap, T* out) {
  for (size_t i = 0; i < n; ++i) {
    S v = load<S>(p + i * sizeof(S), swap);
    if (!fits<T>(v)) return i;
    out[i] = T(v);
  }
  return n;
}

// Converts n values of storage type `mi` at p into out; returns n, or the index of the first value that does not
// fit T exactly.
template <class T>
size_t convert_values(const uint8_t* p, uint32_t mi, size_t n, bool swap, T* out) {
  switch (mi) {
    case miINT8: return convert_from<T, int8_t>(p, n, swap, out);
    case miUINT8: return convert_from<T, uint8_t>(p, n, swap, out);
    case miINT16: return convert_from<T, int16_t>(p, n, swap, out);
    case miUINT16: return convert_from<T, uint16_t>(p, n, swap, out);
    case miINT32: return convert_from<T, int32_t>(p, n, swap, out);
    case miUINT32: return convert_from<T, uint32_t>(p, n, swap, out);
    case miSINGLE: return convert_from<T, float>(p, n, swap, out);
    case miDOUBLE: return convert_from<T, double>(p, n, swap, out);
    case miINT64: return convert_from<T, int64_t>(p, n, swap, out);
    case miUINT64: return convert_from<T, uint64_t>(p, n, swap, out);
    default: return 0;
  }
}

}  // namespace mtinet::mat_detail
