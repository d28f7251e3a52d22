// Element types a Tensor can hold and their sizes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace mtinet {

// F16 and BF16 are storage-only for now (safetensors I/O); compute is f32 (both backends) and f64 (CPU).
enum class DType : uint8_t { F32, F64, I32, I64, U8, BF16, F16 };

size_t dtype_size(DType dt);
const char* dtype_name(DType dt);  // "f32", "f64", ...
bool is_floating(DType dt);        // F32, F64, BF16, F16

// Maps a C++ type to its DType at compile time: dtype_of<float>() == DType::F32.
template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::F32; }
template <> constexpr DType dtype_of<double>() { return DType::F64; }
template <> constexpr DType dtype_of<int32_t>() { return DType::I32; }
template <> constexpr DType dtype_of<int64_t>() { return DType::I64; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::U8; }

}  // namespace mtinet
