// A small writer of MATLAB level-5 MAT-files, the inverse of read_mat (data/mat.h) for the values the synthetic
// PASCAL dataset needs: numeric, logical, char, struct and cell arrays, nested, written uncompressed and
// little-endian, each variable zlib-compressed as MATLAB's -v7 does (or not). Values are given as read_mat returns
// them (row-major in MATLAB's dimension order) and stored column-major as MATLAB does, so read_mat(write_mat(v))
// == v.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "data/mat.h"

namespace mtinet {

using MatVariables = std::vector<std::pair<std::string, MatValue>>;  // name -> value, in file order

// The whole file as bytes; throws on a value read_mat would reject (inconsistent sizes, empty or duplicate field
// names, a class without storage).
std::vector<uint8_t> serialize_mat(const MatVariables& vars, bool compress = false);
// Writes the file atomically (a temporary file renamed), so a reader never sees half a file. Compressed by default:
// part masks are mostly zeros (a PASCAL-Part annotation shrinks about 50-fold).
void write_mat(const std::string& path, const MatVariables& vars, bool compress = true);

// Builders for the values above. Shapes are MATLAB's (at least two dimensions); data row-major.
MatValue mat_uint8(std::vector<int64_t> shape, const std::vector<uint8_t>& values);
MatValue mat_uint16(std::vector<int64_t> shape, const std::vector<uint16_t>& values);
MatValue mat_double(std::vector<int64_t> shape, const std::vector<double>& values);
MatValue mat_logical(std::vector<int64_t> shape, const std::vector<uint8_t>& values);  // 0 or 1
MatValue mat_string(const std::string& ascii);  // a 1xN char row (ASCII only)
// A struct array of shape `shape`; items[e * field_names.size() + f] is element e's field f.
MatValue mat_struct(std::vector<int64_t> shape, std::vector<std::string> field_names, std::vector<MatValue> items);

}  // namespace mtinet
