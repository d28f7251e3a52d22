// CRC-32C (Castagnoli), the checksum TFRecord files frame every record with, and TensorFlow's "masked" form of it.
#pragma once
#include <cstddef>
#include <cstdint>

namespace mtinet {

// CRC-32C of n bytes (reflected polynomial 0x82F63B78); crc32c("123456789") = 0xE3069283.
uint32_t crc32c(const void* data, size_t n);

// TFRecord stores rotate_right(crc, 15) + 0xa282ead8 rather than the CRC itself: a CRC computed over bytes that
// themselves hold CRCs would otherwise be weak.
uint32_t masked_crc32c(const void* data, size_t n);

}  // namespace mtinet
