// MatValue and MatFile accessors: each failure names the file and the value's path, so a user can find the
// annotation that does not look the way the dataset code expects.
#include <algorithm>

#include "core/error.h"
#include "core/strings.h"
#include "data/mat.h"
#include "data/mat_convert.h"

namespace mtinet {

using namespace mat_detail;

namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s;
  for (size_t k = 0; k < shape.size(); ++k) s += (k ? "x" : "") + std::to_string(shape[k]);
  return s;
}

std::string describe(const MatValue& v) { return shape_text(v.shape) + " " + mat_class_name(v.cls); }

std::string joined(const std::vector<std::string>& names) {
  return names.empty() ? "none" : join(names, ", ");
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | cp >> 6);
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | cp >> 12);
    out += char(0x80 | (cp >> 6 & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | cp >> 18);
    out += char(0x80 | (cp >> 12 & 0x3F));
    out += char(0x80 | (cp >> 6 & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

// UTF-16 units to UTF-8; a surrogate without its partner (MATLAB allows any 16-bit unit) becomes U+FFFD.
std::string utf16_to_utf8(const char16_t* p, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    uint32_t u = p[i];
    if (u >= 0xD800 && u < 0xDC00 && i + 1 < n && p[i + 1] >= 0xDC00 && p[i + 1] < 0xE000) {
      append_utf8(out, 0x10000 + ((u - 0xD800) << 10) + (p[i + 1] - 0xDC00));
      ++i;
    } else {
      append_utf8(out, u >= 0xD800 && u < 0xE000 ? 0xFFFD : u);
    }
  }
  return out;
}

}  // namespace

const char* mat_class_name(MatClass c) {
  switch (c) {
    case MatClass::Double: return "double";
    case MatClass::Single: return "single";
    case MatClass::Int8: return "int8";
    case MatClass::UInt8: return "uint8";
    case MatClass::Int16: return "int16";
    case MatClass::UInt16: return "uint16";
    case MatClass::Int32: return "int32";
    case MatClass::UInt32: return "uint32";
    case MatClass::Int64: return "int64";
    case MatClass::UInt64: return "uint64";
    case MatClass::Logical: return "logical";
    case MatClass::Char: return "char";
    case MatClass::Struct: return "struct";
    case MatClass::Cell: return "cell";
  }
  return "?";
}

int64_t MatValue::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;  // the reader checked that the product fits
  return n;
}

bool MatValue::is_numeric() const { return native_mi_type(cls) != 0; }

void MatValue::expect_class(MatClass c) const {
  MTINET_CHECK(cls == c, "'", file, "': ", path, ": expected a ", mat_class_name(c), " array, found ", describe(*this));
}

void MatValue::expect_shape(const std::vector<int64_t>& dims) const {
  bool ok = dims.size() == shape.size();
  for (size_t k = 0; ok && k < dims.size(); ++k) ok = dims[k] < 0 || dims[k] == shape[k];
  std::string want;
  for (size_t k = 0; k < dims.size(); ++k) want += (k ? "x" : "") + (dims[k] < 0 ? "N" : std::to_string(dims[k]));
  MTINET_CHECK(ok, "'", file, "': ", path, ": expected a ", want, " array, found ", describe(*this));
}

bool MatValue::has_field(const std::string& name) const {
  return is_struct() && std::find(field_names.begin(), field_names.end(), name) != field_names.end();
}

int64_t MatValue::struct_size() const {
  expect_class(MatClass::Struct);
  return numel();
}

const MatValue& MatValue::field(const std::string& name) const {
  expect_class(MatClass::Struct);
  MTINET_CHECK(numel() == 1, "'", file, "': ", path, ": is a ", describe(*this), " array; name the element ",
               "whose field '", name, "' to read");
  return field(0, name);
}

const MatValue& MatValue::field(int64_t element, const std::string& name) const {
  expect_class(MatClass::Struct);
  auto it = std::find(field_names.begin(), field_names.end(), name);
  MTINET_CHECK(it != field_names.end(), "'", file, "': ", path, ": no field '", name, "' (fields: ",
               joined(field_names), ")");
  MTINET_CHECK(element >= 0 && element < numel(), "'", file, "': ", path, ": element ", element,
               " out of range for a ", describe(*this), " array");
  size_t nf = field_names.size();
  return items[size_t(element) * nf + size_t(it - field_names.begin())];
}

const MatValue& MatValue::cell(int64_t index) const {
  expect_class(MatClass::Cell);
  MTINET_CHECK(index >= 0 && index < numel(), "'", file, "': ", path, ": cell ", index, " out of range for a ",
               describe(*this), " array");
  return items[size_t(index)];
}

std::string MatValue::str() const {
  expect_class(MatClass::Char);
  int non_singleton = 0;
  for (int64_t d : shape) non_singleton += d != 1;
  MTINET_CHECK(non_singleton <= 1 || numel() == 0, "'", file, "': ", path, ": is a ", describe(*this),
               " matrix, not a string (read it with char_rows)");
  return utf16_to_utf8(chars.data(), chars.size());
}

std::vector<std::string> MatValue::char_rows() const {
  expect_class(MatClass::Char);
  MTINET_CHECK(shape.size() == 2, "'", file, "': ", path, ": is a ", describe(*this), " array, not a char matrix");
  std::vector<std::string> rows;
  if (chars.empty()) return rows;  // an empty char matrix has no rows (an Hx0 one must not allocate H strings)
  for (int64_t r = 0; r < shape[0]; ++r) rows.push_back(utf16_to_utf8(chars.data() + r * shape[1], size_t(shape[1])));
  return rows;
}

double MatValue::scalar() const {
  MTINET_CHECK(is_numeric() && numel() == 1, "'", file, "': ", path, ": expected a numeric scalar, found ",
               describe(*this));
  return to_vector<double>()[0];
}

template <class T>
std::vector<T> MatValue::to_vector() const {
  MTINET_CHECK(is_numeric(), "'", file, "': ", path, ": expected a numeric array, found ", describe(*this));
  std::vector<T> out(static_cast<size_t>(numel()));
  size_t done = convert_values(bytes.data(), native_mi_type(cls), out.size(), false, out.data());
  if (done != out.size()) {
    MTINET_FAIL("'", file, "': ", path, ": element ", done, " of a ", describe(*this), " array does not fit the ",
                "requested type exactly");
  }
  return out;
}

template std::vector<double> MatValue::to_vector<double>() const;
template std::vector<float> MatValue::to_vector<float>() const;
template std::vector<int8_t> MatValue::to_vector<int8_t>() const;
template std::vector<uint8_t> MatValue::to_vector<uint8_t>() const;
template std::vector<int16_t> MatValue::to_vector<int16_t>() const;
template std::vector<uint16_t> MatValue::to_vector<uint16_t>() const;
template std::vector<int32_t> MatValue::to_vector<int32_t>() const;
template std::vector<uint32_t> MatValue::to_vector<uint32_t>() const;
template std::vector<int64_t> MatValue::to_vector<int64_t>() const;
template std::vector<uint64_t> MatValue::to_vector<uint64_t>() const;

const MatValue& MatFile::var(const std::string& name) const {
  auto it = vars.find(name);
  MTINET_CHECK(it != vars.end(), "'", path, "': no variable '", name, "' (variables: ", joined(names), ")");
  return it->second;
}

}  // namespace mtinet
