// Parsing of MAT-file level-5 data: the 128-byte header, then top-level miMATRIX / miCOMPRESSED elements, each
// miMATRIX holding array flags, dimensions, a name and the class's data (numbers, characters, or nested miMATRIX
// elements for struct fields and cells). Every length is checked against the bytes that enclose it before use.
#include <algorithm>
#include <limits>
#include <set>

#include "core/error.h"
#include "core/file_io.h"
#include "data/mat.h"
#include "data/mat_convert.h"
#include "data/mat_inflate.h"

namespace mtinet {

using namespace mat_detail;

namespace {

// MATLAB array classes (mxCLASS ids) as the array flags hold them.
enum MxClass : uint32_t {
  mxCELL = 1, mxSTRUCT = 2, mxOBJECT = 3, mxCHAR = 4, mxSPARSE = 5, mxDOUBLE = 6, mxSINGLE = 7, mxINT8 = 8,
  mxUINT8 = 9, mxINT16 = 10, mxUINT16 = 11, mxINT32 = 12, mxUINT32 = 13, mxINT64 = 14, mxUINT64 = 15,
  mxFUNCTION = 16, mxOPAQUE = 17
};
constexpr uint32_t kFlagComplex = 0x08, kFlagLogical = 0x02;

// A deflate stream expands at most ~1032x; tags announcing more than that cannot be honest.
constexpr uint64_t kMaxInflateRatio = 1032;
// No annotation comes near this; it bounds what a crafted tag can make the reader allocate.
constexpr uint64_t kMaxDecompressedBytes = uint64_t(1) << 30;

// What the values read from one file may hold in memory, in all. Without it a small file could make the reader
// allocate gigabytes: a compressed cell array of millions of empty cells (each a MatValue with its own path string),
// or a double array stored as uint8 (8 bytes per byte of data). No annotation comes near it.
constexpr uint64_t kMaxValueBytes = uint64_t(1) << 30;

constexpr char kReSave[] = "re-save it in MATLAB with save(filename, variables..., '-v7')";

const uint8_t kHdf5Signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

bool has_hdf5_signature(const uint8_t* data, size_t size, size_t at) {
  return size >= at + 8 && std::equal(kHdf5Signature, kHdf5Signature + 8, data + at);
}

// One data element: its type, where its data starts and how long it is, and where the next element starts.
struct Element {
  uint32_t type = 0;
  size_t data = 0, nbytes = 0, next = 0;
};

size_t class_size(MatClass c) { return mi_numeric_size(native_mi_type(c)); }

MatClass numeric_class(uint32_t mx) {
  switch (mx) {
    case mxDOUBLE: return MatClass::Double;
    case mxSINGLE: return MatClass::Single;
    case mxINT8: return MatClass::Int8;
    case mxUINT8: return MatClass::UInt8;
    case mxINT16: return MatClass::Int16;
    case mxUINT16: return MatClass::UInt16;
    case mxINT32: return MatClass::Int32;
    case mxUINT32: return MatClass::UInt32;
    case mxINT64: return MatClass::Int64;
    default: return MatClass::UInt64;
  }
}

// Reorders the elements of `in` (numel of `elem` entries each) from MATLAB's column-major order to row-major order
// in `shape`. C is a vector of bytes (elem = bytes per value), of values, or a u16string.
template <class C>
C column_to_row_major(C in, const std::vector<int64_t>& shape, size_t elem) {
  size_t n = in.size() / elem;
  if (n <= 1) return in;
  C out(in.size(), typename C::value_type());
  // Walk the row-major output in order, tracking the column-major offset of the same subscripts: the stride of
  // dimension k is the product of the dimensions before it.
  std::vector<size_t> stride(shape.size()), sub(shape.size(), 0);
  size_t s = 1;
  for (size_t k = 0; k < shape.size(); ++k) { stride[k] = s; s *= size_t(shape[k]); }
  size_t col = 0;
  for (size_t r = 0; r < n; ++r) {
    for (size_t b = 0; b < elem; ++b) out[r * elem + b] = std::move(in[col * elem + b]);
    for (size_t k = shape.size(); k-- > 0;) {  // odometer over row-major subscripts, the last one fastest
      if (++sub[k] < size_t(shape[k])) { col += stride[k]; break; }
      col -= stride[k] * (sub[k] - 1);
      sub[k] = 0;
    }
  }
  return out;
}

class Parser {
 public:
  // `used` counts the bytes the file's values hold so far, shared by the parsers of one file (kMaxValueBytes).
  Parser(const uint8_t* base, const std::string& source, std::string region, bool swap, uint64_t& used)
      : base_(base), source_(source), region_(std::move(region)), swap_(swap), used_(used) {}

  [[noreturn]] void fail(size_t at, const std::string& path, const std::string& msg) const {
    MTINET_FAIL("'", source_, "': ", path.empty() ? "" : path + ": ", msg, " (at byte ", at, region_, ")");
  }

  uint32_t u32(size_t at) const { return load<uint32_t>(base_ + at, swap_); }

  // Accounts for `bytes` more of values in memory, before they are allocated.
  void charge(uint64_t bytes, size_t at, const std::string& path) const {
    if (bytes > kMaxValueBytes - used_) {
      fail(at, path, "the file's values would take more than " + std::to_string(kMaxValueBytes >> 20) +
                         " MB of memory");
    }
    used_ += bytes;
  }

  // Reads the element starting at pos, which must lie within [pos, end). `padded`: the element is followed by
  // padding to a multiple of 8 bytes (every element inside a miMATRIX), which must fit too.
  Element element(size_t pos, size_t end, const std::string& path, bool padded) const {
    if (end - pos < 8) fail(pos, path, "truncated: a data element tag needs 8 bytes, " + std::to_string(end - pos) +
                                           " left");
    Element e;
    uint32_t w0 = u32(pos);
    if (w0 >> 16) {  // small data element: type and length in one word, up to 4 bytes of data in the next
      e.type = w0 & 0xFFFF;
      e.nbytes = w0 >> 16;
      if (e.nbytes > 4) fail(pos, path, "small data element claims " + std::to_string(e.nbytes) + " bytes (at most 4)");
      e.data = pos + 4;
      e.next = pos + 8;
      return e;
    }
    e.type = w0;
    e.nbytes = u32(pos + 4);
    e.data = pos + 8;
    if (e.nbytes > end - e.data) {
      fail(pos, path, "data element of " + std::to_string(e.nbytes) + " bytes, but only " +
                          std::to_string(end - e.data) + " remain (truncated file?)");
    }
    size_t extent = padded ? (e.nbytes + 7) / 8 * 8 : e.nbytes;
    if (extent > end - e.data) {
      fail(pos, path, "data element of " + std::to_string(e.nbytes) + " bytes lacks its padding to 8 bytes");
    }
    e.next = e.data + extent;
    return e;
  }

  Element expect(size_t pos, size_t end, const std::string& path, uint32_t type, const char* what) const {
    Element e = element(pos, end, path, true);
    if (e.type != type) {
      fail(pos, path, std::string(what) + ": expected data type " + std::to_string(type) + ", found " +
                          std::to_string(e.type));
    }
    return e;
  }

  // Parses the miMATRIX element whose data is [begin, end). `name`, for top-level variables only, receives the
  // array name the element carries.
  MatValue matrix(size_t begin, size_t end, const std::string& path, int depth, std::string* name) const {
    MatValue v;
    v.path = path;
    v.file = source_;
    if (depth > kMatMaxDepth) {
      fail(begin, path, "arrays nested deeper than " + std::to_string(kMatMaxDepth) + " levels");
    }
    charge(sizeof(MatValue) + path.size() + source_.size(), begin, path);  // the value's own strings
    if (begin == end) return v;  // an empty miMATRIX stands for [] (MATLAB writes empty cells and fields so)

    Element flags = expect(begin, end, path, miUINT32, "array flags");
    if (flags.nbytes != 8) fail(begin, path, "array flags of " + std::to_string(flags.nbytes) + " bytes (expected 8)");
    uint32_t word = u32(flags.data);
    uint32_t mx = word & 0xFF, fl = (word >> 8) & 0xFF;

    Element dims_el = expect(flags.next, end, path, miINT32, "dimensions");
    if (dims_el.nbytes % 4 != 0 || dims_el.nbytes < 8) {
      fail(flags.next, path, "dimensions of " + std::to_string(dims_el.nbytes) + " bytes (need 2 or more int32)");
    }
    v.shape.clear();
    uint64_t numel = 1;
    for (size_t k = 0; k < dims_el.nbytes / 4; ++k) {
      int32_t d = int32_t(u32(dims_el.data + 4 * k));
      if (d < 0) fail(dims_el.data, path, "negative dimension " + std::to_string(d));
      v.shape.push_back(d);
      if (__builtin_mul_overflow(numel, uint64_t(d), &numel) || numel > uint64_t(std::numeric_limits<int64_t>::max())) {
        fail(dims_el.data, path, "the dimensions' product overflows");
      }
    }

    Element name_el = element(dims_el.next, end, path, true);
    if (name_el.type != miINT8 && name_el.type != miUINT8) {
      fail(dims_el.next, path, "array name: expected data type 1, found " + std::to_string(name_el.type));
    }
    std::string nm(reinterpret_cast<const char*>(base_ + name_el.data), name_el.nbytes);
    if (nm.find('\0') != std::string::npos) fail(name_el.data, path, "array name contains a NUL byte");
    if (name) *name = nm;
    // A top-level variable (name != nullptr) is called "variable N" until its name is read, then by its name.
    std::string p = name && !nm.empty() ? nm : path;
    v.path = p;
    size_t pos = name_el.next;

    if (fl & kFlagComplex) fail(begin, p, "complex arrays are not supported");
    switch (mx) {
      case mxCELL: pos = cells(v, pos, end, numel, depth); break;
      case mxSTRUCT: pos = structs(v, pos, end, numel, depth); break;
      case mxCHAR: pos = chars(v, pos, end, numel); break;
      case mxSPARSE: fail(begin, p, "sparse arrays are not supported; convert with full() before saving");
      case mxOBJECT: fail(begin, p, "MATLAB objects are not supported; save their properties as a struct");
      case mxFUNCTION: case mxOPAQUE:
        fail(begin, p, "function handles and opaque objects (class " + std::to_string(mx) + ") are not supported");
      default:
        if (mx < mxDOUBLE || mx > mxUINT64) fail(begin, p, "unknown array class " + std::to_string(mx));
        pos = numbers(v, pos, end, numel, numeric_class(mx), (fl & kFlagLogical) != 0);
    }
    if (pos != end) fail(pos, p, std::to_string(end - pos) + " unexpected bytes after the array's data");
    return v;
  }

 private:
  size_t numbers(MatValue& v, size_t pos, size_t end, uint64_t numel, MatClass cls, bool logical) const {
    v.cls = logical ? MatClass::Logical : cls;
    Element d = element(pos, end, v.path, true);
    size_t width = mi_numeric_size(d.type);
    if (width == 0) fail(pos, v.path, "numeric data of non-numeric data type " + std::to_string(d.type));
    if (d.nbytes % width != 0 || d.nbytes / width != numel) {
      fail(pos, v.path, "numeric data of " + std::to_string(d.nbytes) + " bytes holds " +
                            std::to_string(d.nbytes / width) + "+ values of type " + std::to_string(d.type) +
                            ", but the dimensions need " + std::to_string(numel));
    }
    size_t elem = class_size(cls);
    charge(numel * elem, d.data, v.path);
    v.bytes.resize(numel * elem);  // numel <= nbytes: the data is in hand, so this is at most 8x its size
    size_t done = 0;
    const uint8_t* src = base_ + d.data;
    switch (cls) {
      case MatClass::Double: done = convert_values(src, d.type, numel, swap_, (double*)v.bytes.data()); break;
      case MatClass::Single: done = convert_values(src, d.type, numel, swap_, (float*)v.bytes.data()); break;
      case MatClass::Int8: done = convert_values(src, d.type, numel, swap_, (int8_t*)v.bytes.data()); break;
      case MatClass::UInt8: done = convert_values(src, d.type, numel, swap_, (uint8_t*)v.bytes.data()); break;
      case MatClass::Int16: done = convert_values(src, d.type, numel, swap_, (int16_t*)v.bytes.data()); break;
      case MatClass::UInt16: done = convert_values(src, d.type, numel, swap_, (uint16_t*)v.bytes.data()); break;
      case MatClass::Int32: done = convert_values(src, d.type, numel, swap_, (int32_t*)v.bytes.data()); break;
      case MatClass::UInt32: done = convert_values(src, d.type, numel, swap_, (uint32_t*)v.bytes.data()); break;
      case MatClass::Int64: done = convert_values(src, d.type, numel, swap_, (int64_t*)v.bytes.data()); break;
      default: done = convert_values(src, d.type, numel, swap_, (uint64_t*)v.bytes.data()); break;
    }
    if (done != numel) {
      fail(d.data, v.path, "value " + std::to_string(done) + " (column-major) of data type " + std::to_string(d.type) +
                               " does not fit the array's class " + mat_class_name(cls));
    }
    if (logical) {  // held as uint8 0/1 whatever class carried them (MATLAB uses uint8)
      std::vector<uint8_t> flags(numel);
      for (size_t i = 0; i < numel; ++i) {
        const uint8_t* b = v.bytes.data() + i * elem;
        flags[i] = std::any_of(b, b + elem, [](uint8_t x) { return x != 0; });
      }
      v.bytes = std::move(flags);
      elem = 1;
    }
    v.bytes = column_to_row_major(std::move(v.bytes), v.shape, elem);
    return d.next;
  }

  size_t chars(MatValue& v, size_t pos, size_t end, uint64_t numel) const {
    v.cls = MatClass::Char;
    Element d = element(pos, end, v.path, true);
    const uint8_t* p = base_ + d.data;
    charge(2 * uint64_t(d.nbytes), d.data, v.path);  // at most one UTF-16 unit per byte
    std::u16string units;
    auto need_multiple = [&](size_t w) {
      if (d.nbytes % w) fail(pos, v.path, "character data of " + std::to_string(d.nbytes) + " bytes, not a multiple of "
                                               + std::to_string(w));
    };
    switch (d.type) {
      case miUTF8: units = utf8_to_utf16(p, d.nbytes, d.data, v.path); break;
      case miUINT8: case miINT8:  // Latin-1
        units.assign(p, p + d.nbytes);
        break;
      case miUINT16: case miUTF16: case miINT16:
        need_multiple(2);
        for (size_t i = 0; i < d.nbytes; i += 2) units.push_back(load<uint16_t>(p + i, swap_));
        break;
      case miUTF32: case miUINT32: case miINT32:
        need_multiple(4);
        for (size_t i = 0; i < d.nbytes; i += 4) append_code_point(units, load<uint32_t>(p + i, swap_), d.data + i,
                                                                   v.path);
        break;
      default: fail(pos, v.path, "character data of non-character data type " + std::to_string(d.type));
    }
    if (d.type == miUTF8 && units.size() != numel && vector_like(v.shape) && code_points(units) == numel) {
      // scipy counts characters beyond the BMP once; MATLAB holds them as two UTF-16 units. Take MATLAB's view.
      auto it = std::find_if(v.shape.begin(), v.shape.end(), [](int64_t dim) { return dim != 1; });
      *(it != v.shape.end() ? it : v.shape.begin() + 1) = int64_t(units.size());
      numel = units.size();
    }
    if (units.size() != numel) {
      fail(pos, v.path, "character data holds " + std::to_string(units.size()) +
                            " characters, but the dimensions need " + std::to_string(numel));
    }
    v.chars = column_to_row_major(std::move(units), v.shape, 1);
    return d.next;
  }

  static bool vector_like(const std::vector<int64_t>& shape) {
    return std::count_if(shape.begin(), shape.end(), [](int64_t d) { return d != 1; }) <= 1;
  }

  static size_t code_points(const std::u16string& units) {
    return size_t(std::count_if(units.begin(), units.end(), [](char16_t u) { return u < 0xDC00 || u >= 0xE000; }));
  }

  void append_code_point(std::u16string& out, uint32_t cp, size_t at, const std::string& path) const {
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000)) fail(at, path, "invalid character code " + std::to_string(cp));
    if (cp < 0x10000) {
      out.push_back(char16_t(cp));
    } else {  // MATLAB holds characters beyond the BMP as two UTF-16 units, and counts them as two
      cp -= 0x10000;
      out.push_back(char16_t(0xD800 + (cp >> 10)));
      out.push_back(char16_t(0xDC00 + (cp & 0x3FF)));
    }
  }

  // Strict UTF-8: no overlong forms, surrogates or truncated sequences.
  std::u16string utf8_to_utf16(const uint8_t* p, size_t n, size_t at, const std::string& path) const {
    std::u16string out;
    size_t i = 0;
    while (i < n) {
      uint8_t b = p[i];
      size_t len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
      if (len == 0 || len > n - i) fail(at + i, path, "invalid UTF-8 in character data");
      uint32_t cp = len == 1 ? b : b & (0x7F >> len);
      for (size_t k = 1; k < len; ++k) {
        if ((p[i + k] & 0xC0) != 0x80) fail(at + i, path, "invalid UTF-8 in character data");
        cp = cp << 6 | (p[i + k] & 0x3F);
      }
      static const uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
      if (cp < kMin[len]) fail(at + i, path, "overlong UTF-8 in character data");
      append_code_point(out, cp, at + i, path);
      i += len;
    }
    return out;
  }

  // Each of `count` nested values needs at least an 8-byte tag: checking that first bounds the allocation by the
  // data in hand.
  void check_room(uint64_t count, size_t pos, size_t end, const std::string& path, const char* what) const {
    if (count > (end - pos) / 8) {
      fail(pos, path, std::string(what) + " needs " + std::to_string(count) + " nested arrays, but only " +
                          std::to_string(end - pos) + " bytes remain");
    }
  }

  // A nested miMATRIX at pos; returns the position after it.
  size_t nested(MatValue& out, size_t pos, size_t end, const std::string& path, int depth) const {
    Element e = element(pos, end, path, true);
    if (e.type != miMATRIX) {
      fail(pos, path, "expected a nested array (data type 14), found data type " + std::to_string(e.type));
    }
    out = matrix(e.data, e.data + e.nbytes, path, depth, nullptr);
    return e.next;
  }

  size_t cells(MatValue& v, size_t pos, size_t end, uint64_t numel, int depth) const {
    v.cls = MatClass::Cell;
    check_room(numel, pos, end, v.path, "cell array");
    charge(numel * sizeof(MatValue), pos, v.path);
    std::vector<MatValue> items(numel);
    for (size_t i = 0; i < numel; ++i) {
      pos = nested(items[i], pos, end, v.path + "{" + subscripts(v.shape, i) + "}", depth + 1);
    }
    v.items = column_to_row_major(std::move(items), v.shape, 1);
    return pos;
  }

  size_t structs(MatValue& v, size_t pos, size_t end, uint64_t numel, int depth) const {
    v.cls = MatClass::Struct;
    Element len_el = expect(pos, end, v.path, miINT32, "field name length");
    if (len_el.nbytes != 4) fail(pos, v.path, "field name length of " + std::to_string(len_el.nbytes) + " bytes");
    uint32_t len = u32(len_el.data);
    if (len == 0 || len > 4096) fail(len_el.data, v.path, "field name length " + std::to_string(len));
    Element names_el = element(len_el.next, end, v.path, true);
    if (names_el.type != miINT8 && names_el.type != miUINT8) {
      fail(len_el.next, v.path, "field names: expected data type 1, found " + std::to_string(names_el.type));
    }
    if (names_el.nbytes % len) {
      fail(len_el.next, v.path, "field names of " + std::to_string(names_el.nbytes) + " bytes, not a multiple of " +
                                    std::to_string(len));
    }
    std::set<std::string> seen;
    for (size_t off = 0; off < names_el.nbytes; off += len) {
      const char* s = reinterpret_cast<const char*>(base_ + names_el.data + off);
      std::string f(s, std::find(s, s + len, '\0'));
      if (f.empty()) fail(names_el.data + off, v.path, "empty field name");
      if (!seen.insert(f).second) fail(names_el.data + off, v.path, "duplicate field name '" + f + "'");
      v.field_names.push_back(f);
    }
    size_t nf = v.field_names.size();
    pos = names_el.next;
    uint64_t count = 0;
    if (__builtin_mul_overflow(numel, uint64_t(nf), &count)) fail(pos, v.path, "too many struct fields");
    check_room(count, pos, end, v.path, "struct array");
    if (count == 0) return pos;  // no fields or no elements: nothing to read (and nothing to allocate)
    charge(count * sizeof(MatValue) + numel * sizeof(std::vector<MatValue>), pos, v.path);
    // The file holds elements column-major, each with all its fields; reorder whole elements.
    std::vector<std::vector<MatValue>> elems(numel, std::vector<MatValue>(nf));
    for (size_t i = 0; i < numel; ++i) {
      std::string ep = v.path + (numel == 1 ? "" : "(" + subscripts(v.shape, i) + ")");
      for (size_t f = 0; f < nf; ++f) pos = nested(elems[i][f], pos, end, ep + "." + v.field_names[f], depth + 1);
    }
    elems = column_to_row_major(std::move(elems), v.shape, 1);
    v.items.reserve(count);
    for (auto& e : elems) for (auto& x : e) v.items.push_back(std::move(x));
    return pos;
  }

  // MATLAB's subscripts of the element at column-major index i, 1-based: "3" for vectors, "2,1" otherwise.
  static std::string subscripts(const std::vector<int64_t>& shape, size_t i) {
    if (std::count_if(shape.begin(), shape.end(), [](int64_t d) { return d != 1; }) <= 1) return std::to_string(i + 1);
    std::string s;
    for (size_t k = 0; k < shape.size(); ++k) {
      s += (k ? "," : "") + std::to_string(i % size_t(shape[k]) + 1);
      i /= size_t(shape[k]);
    }
    return s;
  }

  const uint8_t* base_;
  const std::string& source_;
  std::string region_;
  bool swap_;
  uint64_t& used_;
};

}  // namespace

MatFile parse_mat(const uint8_t* data, size_t size, const std::string& source) {
  MatFile file;
  file.path = source;
  std::string v73 = "'" + source + "' is a MATLAB v7.3 MAT-file (HDF5), which this reader does not support; ";
  MTINET_CHECK(!has_hdf5_signature(data, size, 0), v73, kReSave);
  MTINET_CHECK(size >= 128, "'", source, "': ", size, " bytes, too short for a MATLAB level-5 MAT-file header (128)");
  bool little = data[126] == 'I' && data[127] == 'M', big = data[126] == 'M' && data[127] == 'I';
  std::string text(reinterpret_cast<const char*>(data), 116);
  MTINET_CHECK(text.rfind("MATLAB 7.3", 0) != 0 && !has_hdf5_signature(data, size, 512), v73, kReSave);
  MTINET_CHECK(little || big, "'", source, "': not a MATLAB level-5 MAT-file (no endian indicator 'IM' or 'MI' at ",
               "byte 126; level-4 files are not supported)");
  bool swap = big;  // the reader assumes a little-endian machine, as the rest of mtinet does
  uint16_t version = load<uint16_t>(data + 124, swap);
  MTINET_CHECK(version != 0x0200, v73, kReSave);
  MTINET_CHECK(version == 0x0100, "'", source, "': unsupported MAT-file version ", version >> 8, ".", (version & 0xFF),
               " (level-5 files have 1.0)");

  uint64_t used = 0;
  Parser top(data, source, "", swap, used);
  size_t pos = 128;
  while (pos < size) {
    // Top-level elements are not padded: MATLAB writes compressed ones back to back.
    Element e = top.element(pos, size, "", false);
    std::string name, ordinal = "variable " + std::to_string(file.names.size() + 1);
    MatValue v;
    if (e.type == miMATRIX) {
      if (e.nbytes == 0) top.fail(pos, "", "empty top-level array element");
      v = top.matrix(e.data, e.data + e.nbytes, ordinal, 0, &name);
    } else if (e.type == miCOMPRESSED) {
      std::string what = "'" + source + "': compressed element at byte " + std::to_string(pos);
      uint64_t bound = std::min<uint64_t>(kMaxDecompressedBytes, uint64_t(e.nbytes) * kMaxInflateRatio + 64);
      std::vector<uint8_t> inner = inflate_element(
          data + e.data, e.nbytes,
          [&](const uint8_t* tag) {
            uint32_t type = load<uint32_t>(tag, swap), n = load<uint32_t>(tag + 4, swap);
            MTINET_CHECK(type == miMATRIX, what, ": holds data type ", type, " (expected an array, type 14)");
            MTINET_CHECK(n > 0 && 8 + uint64_t(n) <= bound, what, ": its array announces ", n,
                         " decompressed bytes, more than ", e.nbytes, " compressed bytes can hold (limit ", bound, ")");
            return size_t(8 + uint64_t(n));
          },
          what);
      Parser sub(inner.data(), source, " of the data decompressed from the element at byte " + std::to_string(pos),
                 swap, used);
      v = sub.matrix(8, inner.size(), ordinal, 0, &name);
    } else {
      top.fail(pos, "", "unexpected top-level data type " + std::to_string(e.type) + " (expected 14 or 15)");
    }
    pos = e.next;
    if (name.empty()) continue;  // MATLAB's hidden subsystem data (function handles, objects)
    MTINET_CHECK(!file.vars.count(name), "'", source, "': variable '", name, "' appears twice");
    file.names.push_back(name);
    file.vars.emplace(name, std::move(v));
  }
  return file;
}

MatFile read_mat(const std::string& path) {
  std::vector<uint8_t> bytes = read_file_bytes(path);
  return parse_mat(bytes.data(), bytes.size(), path);
}

}  // namespace mtinet
