// Guards for two memory-safety bugs in the stb_image that Debian 12 ships (libstb-dev 0.0~git20220908, stb_image
// 2.27), both found by tests/fuzz and both fixed upstream since 2.28. Until Debian's copy has the fixes, decode_image
// runs this check first:
// - a Huffman table (DHT) whose 16 code counts add up to more than 256 makes stbi__build_huffman and the value loop
//   after it write past the table's arrays (upstream: "bad DHT header");
// - a scan that uses a Huffman table no DHT has defined decodes with uninitialised memory (stb does not zero its
//   decoder state), and stbi__jpeg_huff_decode then indexes far outside the table (upstream: "symbol id out of
//   bounds"). The JPEG standard requires every table to be defined before a scan uses it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace mtinet {

// Walks the JPEG's markers as stb_image does (segment lengths, fill bytes, entropy-coded data, restart markers) and
// throws an Error naming `source` at the first Huffman table with more than 256 codes, or the first scan that uses a
// table not yet defined. No valid JPEG has either. Everything else is left to stb.
void check_jpeg_huffman_tables(const uint8_t* data, size_t size, const std::string& source);

}  // namespace mtinet
