// The header of a .npy file: a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// read by a strict, linear-time parser (std::regex recursed once per character and overflowed the stack on long
// headers, which format versions 2 and 3 allow up to 4 GB).
#pragma once
#include <string>

#include "core/tensor.h"

namespace mtinet {

struct NpyHeader {
  char endian = '<';  // '<', '>' or '|' ('=' is read as '<')
  char kind = 'f';    // f, i, u, b
  int item_size = 4;  // bytes per element, 1..8
  bool fortran = false;
  Shape shape;        // every dimension fits int64; the element count is checked by the caller against the data
};

// Parses the header text (the bytes between the length field and the data); errors name `source` and the problem.
// Requires exactly the keys NumPy writes (descr, fortran_order, shape), as NumPy's own reader does.
NpyHeader parse_npy_header(const std::string& text, const std::string& source);

}  // namespace mtinet
