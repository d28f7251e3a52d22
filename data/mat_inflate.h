// Internal to the MAT-file reader: inflating one miCOMPRESSED element with zlib, bounded before allocating.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace mtinet::mat_detail {

// Inflates the zlib stream in[0, size). The first 8 decompressed bytes (the inner element's tag) go to
// `expected_size`, which returns the total decompressed size the tag announces or throws; only then is the output
// allocated, so a small file cannot make the reader allocate gigabytes. The stream must end exactly there, with no
// input left over. Errors name `what` (the file and the element's position).
std::vector<uint8_t> inflate_element(const uint8_t* in, size_t size,
                                     const std::function<size_t(const uint8_t* tag)>& expected_size,
                                     const std::string& what);

}  // namespace mtinet::mat_detail
