#include "data/npy.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "core/file_io.h"
#include "core/half_float.h"
#include "data/npy_header.h"

namespace mtinet {

namespace {

DType target_dtype(const NpyHeader& h, const std::string& source) {
  char k = h.kind;
  int s = h.item_size;
  if (k == 'f' && (s == 2 || s == 4)) return DType::F32;
  if (k == 'f' && s == 8) return DType::F64;
  if ((k == 'u' || k == 'b') && s == 1) return DType::U8;
  if ((k == 'i' && (s == 1 || s == 2 || s == 4)) || (k == 'u' && s == 2)) return DType::I32;
  if ((k == 'i' && s == 8) || (k == 'u' && s == 4)) return DType::I64;
  MTINET_FAIL("'", source, "': unsupported .npy element type '", k, s, "'");
}

// Reads one element at p (item_size bytes, file endianness) as double or int64.
template <class Out>
Out read_element(const uint8_t* p, const NpyHeader& h) {
  uint8_t buf[8];
  std::memcpy(buf, p, size_t(h.item_size));
  if (h.endian == '>') std::reverse(buf, buf + h.item_size);
  switch (h.kind) {
    case 'f':
      if (h.item_size == 2) { uint16_t v; std::memcpy(&v, buf, 2); return Out(f16_to_float(v)); }
      if (h.item_size == 4) { float v; std::memcpy(&v, buf, 4); return Out(v); }
      { double v; std::memcpy(&v, buf, 8); return Out(v); }
    case 'i':
      if (h.item_size == 1) return Out(int8_t(buf[0]));
      if (h.item_size == 2) { int16_t v; std::memcpy(&v, buf, 2); return Out(v); }
      if (h.item_size == 4) { int32_t v; std::memcpy(&v, buf, 4); return Out(v); }
      { int64_t v; std::memcpy(&v, buf, 8); return Out(v); }
    default:  // 'u', 'b'
      if (h.item_size == 1) return Out(buf[0]);
      if (h.item_size == 2) { uint16_t v; std::memcpy(&v, buf, 2); return Out(v); }
      { uint32_t v; std::memcpy(&v, buf, 4); return Out(v); }
  }
}

// Bytes of data the shape needs, failing where the element or byte count overflows: an unchecked product wrapped
// around, so a crafted shape such as (65536, 2**48 + 1) matched a small file and the reader ran far past it.
uint64_t data_bytes(const NpyHeader& h, const std::string& source) {
  uint64_t numel = 1, bytes = 0;
  for (int64_t d : h.shape) {
    MTINET_CHECK(!__builtin_mul_overflow(numel, uint64_t(d), &numel) &&
                     numel <= uint64_t(std::numeric_limits<int64_t>::max()),
                 "'", source, "': .npy shape ", shape_str(h.shape), " has too many elements (the count overflows)");
  }
  MTINET_CHECK(!__builtin_mul_overflow(numel, uint64_t(h.item_size), &bytes), "'", source, "': .npy shape ",
               shape_str(h.shape), " of ", h.kind, h.item_size, " has too many bytes (the count overflows)");
  return bytes;
}

// Visits the elements in C order and passes each one's index in the file, which for Fortran order is found by
// stepping an odometer over precomputed strides (no per-element division or allocation).
template <class Fn>
void for_each_source_index(const NpyHeader& h, int64_t n, Fn&& fn) {
  if (!h.fortran) {
    for (int64_t i = 0; i < n; ++i) fn(i, i);
    return;
  }
  size_t nd = h.shape.size();
  std::vector<int64_t> coord(nd, 0), stride(nd, 1);  // stride of each dimension in the Fortran-order file
  for (size_t d = 1; d < nd; ++d) stride[d] = stride[d - 1] * h.shape[d - 1];  // bounded by n: no overflow
  int64_t j = 0;
  for (int64_t i = 0; i < n; ++i) {
    fn(i, j);
    for (size_t d = nd; d-- > 0;) {
      j += stride[d];
      if (++coord[d] < h.shape[d]) break;
      j -= coord[d] * stride[d];
      coord[d] = 0;
    }
  }
}

}  // namespace

Tensor parse_npy(const uint8_t* data, size_t size, const std::string& source) {
  static const uint8_t kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  MTINET_CHECK(size >= 10 && std::memcmp(data, kMagic, 6) == 0, "'", source, "' is not a .npy file (bad magic)");
  int major = data[6];
  MTINET_CHECK(major >= 1 && major <= 3, "'", source, "': unsupported .npy format version ", major);
  size_t len_bytes = major == 1 ? 2 : 4;
  MTINET_CHECK(size >= 8 + len_bytes, "'", source, "': truncated .npy header");
  size_t header_len = 0;
  for (size_t i = 0; i < len_bytes; ++i) header_len |= size_t(data[8 + i]) << (8 * i);
  size_t data_start = 8 + len_bytes + header_len;
  MTINET_CHECK(data_start <= size, "'", source, "': .npy header length ", header_len, " exceeds the file size ", size);
  NpyHeader h = parse_npy_header(std::string(reinterpret_cast<const char*>(data) + 8 + len_bytes, header_len), source);
  DType dt = target_dtype(h, source);
  uint64_t need = data_bytes(h, source);
  MTINET_CHECK(size - data_start == need, "'", source, "': .npy data is ", size - data_start, " bytes but shape ",
               shape_str(h.shape), " of ", h.kind, h.item_size, " needs ", need);
  Tensor t = Tensor::empty(h.shape, dt);
  const uint8_t* src = data + data_start;
  for_each_source_index(h, t.numel(), [&](int64_t i, int64_t j) {
    const uint8_t* p = src + j * h.item_size;
    switch (dt) {
      case DType::F32: t.data<float>()[i] = read_element<float>(p, h); break;
      case DType::F64: t.data<double>()[i] = read_element<double>(p, h); break;
      case DType::U8: t.data<uint8_t>()[i] = read_element<uint8_t>(p, h); break;
      case DType::I32: t.data<int32_t>()[i] = read_element<int32_t>(p, h); break;
      default: t.data<int64_t>()[i] = read_element<int64_t>(p, h); break;
    }
  });
  return t;
}

Tensor load_npy(const std::string& path) {
  std::vector<uint8_t> bytes = read_file_bytes(path);
  return parse_npy(bytes.data(), bytes.size(), path);
}

void save_npy(const std::string& path, const Tensor& t) {
  Tensor h = t.to(Device::CPU);
  const char* descr = nullptr;
  switch (h.dtype()) {
    case DType::F32: descr = "<f4"; break;
    case DType::F64: descr = "<f8"; break;
    case DType::U8: descr = "|u1"; break;
    case DType::I32: descr = "<i4"; break;
    case DType::I64: descr = "<i8"; break;
    default: MTINET_FAIL("save_npy: unsupported dtype of ", t.describe());
  }
  std::string shape = "(";
  for (int64_t d : h.shape()) shape += std::to_string(d) + ",";
  if (h.ndim() > 1) shape.pop_back();
  shape += ")";
  std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');  // align the data to 64 bytes, as NumPy does
  header += '\n';
  std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, uint8_t(header.size() & 0xFF),
                              uint8_t(header.size() >> 8)};
  out.insert(out.end(), header.begin(), header.end());
  const uint8_t* p = static_cast<const uint8_t*>(h.raw_data());
  out.insert(out.end(), p, p + h.nbytes());
  write_file_atomic(path, out.data(), out.size());
}

}  // namespace mtinet
