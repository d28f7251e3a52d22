// A strict reader for NumPy .npy files (format versions 1.0, 2.0, 3.0): little- and big-endian, C and Fortran
// order, any rank. Malformed files throw mtinet::Error naming the file and the problem.
#pragma once
#include <cstdint>
#include <string>

#include "core/tensor.h"

namespace mtinet {

// Element types map to: f4, f2 -> f32; f8 -> f64; u1, b1 -> u8; i1, i2, u2, i4 -> i32; u4, i8 -> i64.
// u8 (uint64) is rejected: it does not fit i64 in general. The result is a C-order CPU tensor.
Tensor load_npy(const std::string& path);
Tensor parse_npy(const uint8_t* data, size_t size, const std::string& source);
// Writes a C-order little-endian .npy (f32, f64, u8, i32, i64), e.g. for synthetic datasets and tests.
void save_npy(const std::string& path, const Tensor& t);

}  // namespace mtinet
