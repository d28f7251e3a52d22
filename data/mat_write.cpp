#include "data/mat_write.h"

#include <algorithm>
#include <cstring>
#include <set>

#include <zlib.h>

#include "core/error.h"
#include "core/file_io.h"
#include "data/mat_convert.h"

namespace mtinet {

namespace {

using namespace mat_detail;
using Bytes = std::vector<uint8_t>;

// MATLAB's array class codes (mxCLASS_ID).
uint32_t class_code(MatClass c) {
  switch (c) {
    case MatClass::Cell: return 1;
    case MatClass::Struct: return 2;
    case MatClass::Char: return 4;
    case MatClass::Double: return 6;
    case MatClass::Single: return 7;
    case MatClass::Int8: return 8;
    case MatClass::UInt8: case MatClass::Logical: return 9;  // logical: uint8 storage plus the logical flag
    case MatClass::Int16: return 10;
    case MatClass::UInt16: return 11;
    case MatClass::Int32: return 12;
    case MatClass::UInt32: return 13;
    case MatClass::Int64: return 14;
    case MatClass::UInt64: return 15;
  }
  MTINET_FAIL("mat_write: unknown class");
}

void put32(Bytes& b, uint32_t v) {
  for (int k = 0; k < 4; ++k) b.push_back(uint8_t(v >> (8 * k)));
}

// A data element: tag (type, byte count), the data, zero padding to 8 bytes.
void put_element(Bytes& out, uint32_t type, const uint8_t* data, size_t n) {
  MTINET_CHECK(n <= 0xFFFFFFFFull, "mat_write: an element of ", n, " bytes does not fit a level-5 file");
  put32(out, type);
  put32(out, uint32_t(n));
  out.insert(out.end(), data, data + n);
  out.resize(out.size() + (8 - n % 8) % 8, 0);
}

int64_t numel_of(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

// For each column-major position j (MATLAB's linear index), the row-major index of the same element.
std::vector<size_t> column_major_order(const std::vector<int64_t>& shape) {
  size_t n = size_t(numel_of(shape)), nd = shape.size();
  std::vector<size_t> order(n);
  std::vector<int64_t> idx(nd, 0);  // the multi-index of position j, first dimension fastest
  for (size_t j = 0; j < n; ++j) {
    size_t r = 0;
    for (size_t d = 0; d < nd; ++d) r = r * size_t(shape[d]) + size_t(idx[d]);
    order[j] = r;
    for (size_t d = 0; d < nd && ++idx[d] == shape[d]; ++d) idx[d] = 0;
  }
  return order;
}

void put_matrix(Bytes& out, const std::string& name, const MatValue& v);

void put_body(Bytes& out, const MatValue& v) {
  std::vector<size_t> order = column_major_order(v.shape);
  size_t n = order.size();
  if (v.is_numeric()) {
    size_t item = mi_numeric_size(native_mi_type(v.cls));
    MTINET_CHECK(v.bytes.size() == n * item, "mat_write: '", v.path, "' holds ", v.bytes.size(), " bytes for ", n,
                 " elements of ", item, " bytes");
    Bytes col(n * item);
    for (size_t j = 0; j < n; ++j) std::memcpy(&col[j * item], &v.bytes[order[j] * item], item);
    put_element(out, native_mi_type(v.cls), col.data(), col.size());
  } else if (v.is_char()) {
    MTINET_CHECK(v.chars.size() == n, "mat_write: char array '", v.path, "' has ", v.chars.size(), " units for ", n,
                 " elements");
    Bytes col(n * 2);
    for (size_t j = 0; j < n; ++j) {
      col[2 * j] = uint8_t(v.chars[order[j]] & 0xFF);
      col[2 * j + 1] = uint8_t(v.chars[order[j]] >> 8);
    }
    put_element(out, miUINT16, col.data(), col.size());  // MATLAB's own storage of char arrays
  } else if (v.is_struct()) {
    size_t nf = v.field_names.size();
    MTINET_CHECK(nf > 0 && v.items.size() == n * nf, "mat_write: struct '", v.path, "' has ", v.items.size(),
                 " values for ", n, " elements of ", nf, " fields");
    size_t width = 1;
    std::set<std::string> seen;
    for (const std::string& f : v.field_names) {
      MTINET_CHECK(!f.empty() && seen.insert(f).second, "mat_write: struct '", v.path, "': empty or repeated field '",
                   f, "'");
      width = std::max(width, f.size() + 1);  // names are NUL-terminated in fixed-width slots
    }
    Bytes len;
    put32(len, uint32_t(width));
    put_element(out, miINT32, len.data(), len.size());
    Bytes names(width * nf, 0);
    for (size_t f = 0; f < nf; ++f) std::memcpy(&names[f * width], v.field_names[f].data(), v.field_names[f].size());
    put_element(out, miINT8, names.data(), names.size());
    for (size_t j = 0; j < n; ++j)
      for (size_t f = 0; f < nf; ++f) put_matrix(out, "", v.items[order[j] * nf + f]);
  } else {  // cell
    MTINET_CHECK(v.items.size() == n, "mat_write: cell '", v.path, "' has ", v.items.size(), " values for ", n,
                 " elements");
    for (size_t j = 0; j < n; ++j) put_matrix(out, "", v.items[order[j]]);
  }
}

void put_matrix(Bytes& out, const std::string& name, const MatValue& v) {
  MTINET_CHECK(v.shape.size() >= 2, "mat_write: '", v.path, "' has fewer than two dimensions");
  Bytes m;
  Bytes flags;
  put32(flags, class_code(v.cls) | (v.cls == MatClass::Logical ? 0x0200u : 0u));
  put32(flags, 0);
  put_element(m, miUINT32, flags.data(), flags.size());
  Bytes dims;
  for (int64_t d : v.shape) {
    MTINET_CHECK(d >= 0 && d <= 0x7FFFFFFF, "mat_write: '", v.path, "' has dimension ", d);
    put32(dims, uint32_t(d));
  }
  put_element(m, miINT32, dims.data(), dims.size());
  put_element(m, miINT8, reinterpret_cast<const uint8_t*>(name.data()), name.size());
  put_body(m, v);
  put_element(out, miMATRIX, m.data(), m.size());
}

template <class T>
MatValue numeric(MatClass cls, std::vector<int64_t> shape, const std::vector<T>& values) {
  MTINET_CHECK(int64_t(values.size()) == numel_of(shape), "mat_write: ", values.size(), " values for a shape of ",
               numel_of(shape), " elements");
  MatValue v;
  v.cls = cls;
  v.shape = std::move(shape);
  v.bytes.resize(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(v.bytes.data(), values.data(), v.bytes.size());
  return v;
}

}  // namespace

std::vector<uint8_t> serialize_mat(const MatVariables& vars, bool compress) {
  Bytes out(128, ' ');
  const char text[] = "MATLAB 5.0 MAT-file, written by mtinet";
  std::memcpy(out.data(), text, sizeof text - 1);
  std::memset(&out[116], 0, 8);  // no subsystem data
  out[124] = 0x00;               // version 0x0100, little-endian
  out[125] = 0x01;
  out[126] = 'I';
  out[127] = 'M';
  for (const auto& [name, value] : vars) {
    MTINET_CHECK(!name.empty(), "mat_write: a variable without a name");
    if (!compress) {
      put_matrix(out, name, value);
      continue;
    }
    // A miCOMPRESSED element holds the zlib stream of the variable's whole miMATRIX element; it is not padded.
    Bytes plain;
    put_matrix(plain, name, value);
    uLongf packed_size = compressBound(uLong(plain.size()));
    Bytes packed(packed_size);
    MTINET_CHECK(compress2(packed.data(), &packed_size, plain.data(), uLong(plain.size()), 6) == Z_OK,
                 "mat_write: zlib failed on variable '", name, "'");
    MTINET_CHECK(packed_size <= 0xFFFFFFFFull, "mat_write: variable '", name, "' too large for a level-5 file");
    put32(out, miCOMPRESSED);
    put32(out, uint32_t(packed_size));
    out.insert(out.end(), packed.begin(), packed.begin() + std::ptrdiff_t(packed_size));
  }
  return out;
}

void write_mat(const std::string& path, const MatVariables& vars, bool compress) {
  Bytes b = serialize_mat(vars, compress);
  write_file_atomic(path, b.data(), b.size());
}

MatValue mat_uint8(std::vector<int64_t> shape, const std::vector<uint8_t>& values) {
  return numeric(MatClass::UInt8, std::move(shape), values);
}
MatValue mat_uint16(std::vector<int64_t> shape, const std::vector<uint16_t>& values) {
  return numeric(MatClass::UInt16, std::move(shape), values);
}
MatValue mat_double(std::vector<int64_t> shape, const std::vector<double>& values) {
  return numeric(MatClass::Double, std::move(shape), values);
}
MatValue mat_logical(std::vector<int64_t> shape, const std::vector<uint8_t>& values) {
  for (uint8_t x : values) MTINET_CHECK(x <= 1, "mat_write: logical value ", int(x));
  return numeric(MatClass::Logical, std::move(shape), values);
}

MatValue mat_string(const std::string& ascii) {
  MatValue v;
  v.cls = MatClass::Char;
  v.shape = {1, int64_t(ascii.size())};
  for (char c : ascii) {
    MTINET_CHECK(static_cast<unsigned char>(c) < 128, "mat_write: non-ASCII character in '", ascii, "'");
    v.chars.push_back(char16_t(c));
  }
  return v;
}

MatValue mat_struct(std::vector<int64_t> shape, std::vector<std::string> field_names, std::vector<MatValue> items) {
  MatValue v;
  v.cls = MatClass::Struct;
  v.shape = std::move(shape);
  v.field_names = std::move(field_names);
  v.items = std::move(items);
  MTINET_CHECK(v.items.size() == size_t(numel_of(v.shape)) * v.field_names.size(), "mat_write: struct with ",
               v.items.size(), " values for ", numel_of(v.shape), " elements of ", v.field_names.size(), " fields");
  return v;
}

}  // namespace mtinet
