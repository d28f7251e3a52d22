// safetensors reading and writing. The header is validated completely before any tensor is created, so a bad file
// fails with one precise message instead of producing garbage tensors.
#include "core/safetensors.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "core/fault_injection.h"
#include "core/file_io.h"

namespace mtinet {

// Tensor bytes are copied as they are: the format is little-endian and so must the host be.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors I/O assumes a little-endian host");

namespace {

using nlohmann::json;

constexpr uint64_t kLengthPrefixBytes = 8;
constexpr uint64_t kMaxHeaderBytes = 100000000;  // the format's limit on the JSON header (100 MB)
const char* const kMetadataKey = "__metadata__";
// JSON nesting allowed in the header. A valid header nests 3 levels; the slack keeps messages such as "shape holds
// [[1]]" for near misses. Without a bound, 100k nested brackets overflowed the stack in nlohmann's recursive dump()
// when a message quoted the value.
constexpr int kMaxHeaderDepth = 16;

// Throws directly rather than via MTINET_FAIL: its file:line would always point here, while the message itself
// names the file and the problem.
template <class... Parts>
[[noreturn]] void fail(const std::string& source, const Parts&... parts) {
  throw Error(detail::concat("safetensors file '", source, "': ", parts...));
}

// A JSON value as messages quote it, cut short: the header may be 100 MB and one value nearly all of it.
std::string quote_json(const json& v) {
  constexpr size_t kMax = 80;
  std::string s = v.dump();
  return s.size() <= kMax ? s : s.substr(0, kMax) + "...";
}

// --- dtypes ---

struct FormatDType {
  const char* name;
  DType dtype;
};

// The format's dtypes that mtinet can hold (F16/BF16 as storage only).
const FormatDType kSupportedDTypes[] = {
    {"F32", DType::F32}, {"F64", DType::F64}, {"F16", DType::F16}, {"BF16", DType::BF16},
    {"I64", DType::I64}, {"I32", DType::I32}, {"U8", DType::U8},
};

// The format's other dtypes: valid files, but tensors mtinet has no DType for.
const char* const kUnsupportedDTypes[] = {"BOOL", "I8",      "I16",     "U16",     "U32",     "U64",
                                          "C64",  "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4"};

const char* format_dtype_name(DType dt) {
  for (const FormatDType& f : kSupportedDTypes) {
    if (f.dtype == dt) return f.name;
  }
  MTINET_FAIL("safetensors: no format name for dtype ", dtype_name(dt));
}

DType parse_dtype(const std::string& s, const std::string& tensor, const std::string& source) {
  for (const FormatDType& f : kSupportedDTypes) {
    if (s == f.name) return f.dtype;
  }
  for (const char* name : kUnsupportedDTypes) {
    if (s == name) fail(source, "tensor '", tensor, "' has dtype ", s, ", which is not supported by mtinet");
  }
  fail(source, "tensor '", tensor, "' has unknown dtype '", s, "'");
}

// --- header parsing ---

struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin = 0, end = 0;  // byte range in the data buffer
};

struct Header {
  std::vector<Entry> entries;  // sorted by data offset
  std::map<std::string, std::string> metadata;
};

uint64_t read_u64_le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Validates the length prefix (the first 8 bytes) against the file size and returns the header length N.
uint64_t check_header_length(const uint8_t* prefix, uint64_t file_size, const std::string& source) {
  if (file_size < kLengthPrefixBytes) {
    fail(source, "file is ", file_size, " bytes, shorter than the 8-byte header length (truncated file?)");
  }
  uint64_t n = read_u64_le(prefix);
  if (n > kMaxHeaderBytes) {
    fail(source, "header length ", n, " exceeds the format's limit of ", kMaxHeaderBytes, " bytes");
  }
  if (n > file_size - kLengthPrefixBytes) {
    fail(source, "header length ", n, " exceeds the ", file_size - kLengthPrefixBytes,
         " bytes that follow the length prefix (truncated file?)");
  }
  return n;
}

// A non-negative JSON integer as uint64 (nlohmann stores those as number_unsigned).
bool as_u64(const json& v, uint64_t& out) {
  if (!v.is_number_unsigned()) return false;
  out = v.get<uint64_t>();
  return true;
}

Shape parse_shape(const json& v, const std::string& tensor, const std::string& source) {
  if (!v.is_array()) fail(source, "\"shape\" of tensor '", tensor, "' is not an array");
  Shape shape;
  for (const json& d : v) {
    if (d.is_number_integer() && !d.is_number_unsigned()) {  // written with a minus sign
      if (d.get<int64_t>() < 0) {
        fail(source, "\"shape\" of tensor '", tensor, "' has the negative dimension ", d.get<int64_t>());
      }
      fail(source, "\"shape\" of tensor '", tensor, "' holds -0, not a non-negative integer");
    }
    uint64_t u = 0;
    if (!as_u64(d, u)) fail(source, "\"shape\" of tensor '", tensor, "' holds ", quote_json(d), ", not an integer");
    if (u > uint64_t(std::numeric_limits<int64_t>::max())) {
      fail(source, "\"shape\" of tensor '", tensor, "' has the dimension ", u, ", too large");
    }
    shape.push_back(int64_t(u));
  }
  return shape;
}

// numel * dtype size, failing where any partial product overflows (so shape_numel() is safe on the result).
uint64_t shape_bytes(const Shape& shape, DType dt, const std::string& tensor, const std::string& source) {
  uint64_t numel = 1;
  for (int64_t d : shape) {
    if (__builtin_mul_overflow(numel, uint64_t(d), &numel) ||
        numel > uint64_t(std::numeric_limits<int64_t>::max())) {
      fail(source, "shape ", shape_str(shape), " of tensor '", tensor, "' overflows the element count");
    }
  }
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(numel, uint64_t(dtype_size(dt)), &bytes)) {
    fail(source, "shape ", shape_str(shape), " of tensor '", tensor, "' overflows the byte count");
  }
  return bytes;
}

Entry parse_entry(const std::string& name, const json& v, uint64_t data_size, const std::string& source) {
  if (!v.is_object()) fail(source, "entry '", name, "' is not a JSON object");
  for (const char* field : {"dtype", "shape", "data_offsets"}) {
    if (!v.contains(field)) fail(source, "tensor '", name, "' has no \"", field, "\" field");
  }
  Entry e;
  e.name = name;
  const json& dt = v["dtype"];
  if (!dt.is_string()) fail(source, "\"dtype\" of tensor '", name, "' is ", quote_json(dt), ", not a string");
  e.dtype = parse_dtype(dt.get<std::string>(), name, source);
  e.shape = parse_shape(v["shape"], name, source);
  uint64_t nbytes = shape_bytes(e.shape, e.dtype, name, source);

  const json& off = v["data_offsets"];
  if (!off.is_array() || off.size() != 2 || !as_u64(off[0], e.begin) || !as_u64(off[1], e.end)) {
    fail(source, "\"data_offsets\" of tensor '", name, "' is ", quote_json(off),
         ", not an array of two non-negative integers");
  }
  if (e.end < e.begin) {
    fail(source, "data_offsets [", e.begin, ", ", e.end, "] of tensor '", name, "' end before they begin");
  }
  if (e.end - e.begin != nbytes) {
    fail(source, "tensor '", name, "' has data_offsets [", e.begin, ", ", e.end, "] spanning ", e.end - e.begin,
         " bytes, but dtype ", dt.get<std::string>(), " and shape ", shape_str(e.shape), " need ", nbytes,
         " bytes (size does not match the shape)");
  }
  if (e.end > data_size) {
    fail(source, "data_offsets [", e.begin, ", ", e.end, "] of tensor '", name, "' extend past the ", data_size,
         "-byte data buffer (truncated file?)");
  }
  return e;
}

std::map<std::string, std::string> parse_metadata(const json& v, const std::string& source) {
  std::map<std::string, std::string> out;
  if (v.is_null()) return out;  // the reference implementation reads null as "no metadata"
  if (!v.is_object()) fail(source, "\"__metadata__\" is ", quote_json(v), ", not a JSON object");
  for (const auto& item : v.items()) {
    if (!item.value().is_string()) {
      fail(source, "\"__metadata__\" value for key '", item.key(), "' is ", quote_json(item.value()), ", not a string");
    }
    out[item.key()] = item.value().get<std::string>();
  }
  return out;
}

// The tensors must tile the data buffer exactly: no holes, no overlaps, nothing left over.
void check_coverage(const std::vector<Entry>& sorted, uint64_t data_size, const std::string& source) {
  uint64_t expected = 0;
  const Entry* prev = nullptr;
  for (const Entry& e : sorted) {
    if (e.begin < expected) {
      fail(source, "tensor '", e.name, "' (bytes ", e.begin, "..", e.end, ") overlaps tensor '", prev->name,
           "' (bytes ", prev->begin, "..", prev->end, ")");
    }
    if (e.begin > expected) {
      fail(source, "hole of ", e.begin - expected, " bytes in the data buffer before tensor '", e.name,
           "' (bytes ", e.begin, "..", e.end, "), which should begin at byte ", expected);
    }
    expected = e.end;
    prev = &e;
  }
  if (expected != data_size) {
    fail(source, "the data buffer has ", data_size - expected, " trailing bytes after the last tensor (",
         data_size, " bytes, tensors cover ", expected, ")");
  }
}

// Parses and validates the N-byte JSON header that precedes a data buffer of data_size bytes.
Header parse_header(const uint8_t* text, uint64_t n, uint64_t data_size, const std::string& source) {
  if (n == 0 || text[0] != '{') fail(source, "header does not start with '{'");
  // JSON text never holds a raw NUL, and nlohmann would take one as the end of input and ignore what follows.
  if (const void* nul = std::memchr(text, 0, n)) {
    fail(source, "header is not valid JSON: NUL byte at offset ", static_cast<const uint8_t*>(nul) - text);
  }
  // nlohmann keeps the last of duplicate keys silently; track the keys of every open object to reject them.
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  json::parser_callback_t track_keys = [&](int depth, json::parse_event_t event, json& parsed) {
    bool opens = event == json::parse_event_t::object_start || event == json::parse_event_t::array_start;
    if (opens && depth >= kMaxHeaderDepth) {
      fail(source, "header is nested more than ", kMaxHeaderDepth, " levels deep (a valid one has 3: the header, ",
           "a tensor entry, its shape)");
    }
    if (event == json::parse_event_t::object_start) open_objects.emplace_back();
    if (event == json::parse_event_t::object_end) open_objects.pop_back();
    if (event == json::parse_event_t::key && !open_objects.back().insert(parsed.get<std::string>()).second &&
        duplicate.empty()) {
      duplicate = parsed.get<std::string>();
    }
    return true;
  };
  json j;
  try {
    j = json::parse(text, text + n, track_keys);
  } catch (const json::exception& e) {
    fail(source, "header is not valid JSON: ", e.what());
  }
  if (!duplicate.empty()) fail(source, "duplicate key '", duplicate, "' in the header");
  if (!j.is_object()) fail(source, "header is not a JSON object");

  Header h;
  for (const auto& item : j.items()) {
    if (item.key() == kMetadataKey) {
      h.metadata = parse_metadata(item.value(), source);
    } else {
      h.entries.push_back(parse_entry(item.key(), item.value(), data_size, source));
    }
  }
  std::stable_sort(h.entries.begin(), h.entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  check_coverage(h.entries, data_size, source);
  return h;
}

// Creates the tensors of a validated header; read_bytes(offset_in_data, dst, n) fills each one.
SafetensorsContents make_contents(const Header& h, const std::string& source,
                                  const std::function<void(uint64_t, void*, size_t)>& read_bytes) {
  SafetensorsContents out;
  out.source = source;
  out.metadata = h.metadata;
  for (const Entry& e : h.entries) {
    Tensor t = Tensor::empty(e.shape, e.dtype, Device::CPU);  // fresh, aligned storage
    t.set_name(e.name);
    if (t.nbytes() > 0) read_bytes(e.begin, t.raw_data(), t.nbytes());
    out.tensors.emplace_back(e.name, t);
  }
  return out;
}

}  // namespace

// --- SafetensorsContents ---

bool SafetensorsContents::contains(const std::string& name) const {
  return std::any_of(tensors.begin(), tensors.end(), [&](const auto& kv) { return kv.first == name; });
}

const Tensor& SafetensorsContents::at(const std::string& name) const {
  for (const auto& kv : tensors) {
    if (kv.first == name) return kv.second;
  }
  std::string some;  // a few of the names it does hold, to make typos obvious
  for (size_t i = 0; i < tensors.size() && i < 8; ++i) some += (i ? ", " : "") + tensors[i].first;
  if (tensors.size() > 8) some += ", ...";
  fail(source, "no tensor named '", name, "' (it holds ", tensors.size(), " tensors: ", some, ")");
}

// --- reading ---

SafetensorsContents parse_safetensors(const uint8_t* data, size_t size, const std::string& source) {
  uint64_t n = check_header_length(data, size, source);
  const uint8_t* buffer = data + kLengthPrefixBytes + n;
  uint64_t data_size = size - kLengthPrefixBytes - n;
  Header h = parse_header(data + kLengthPrefixBytes, n, data_size, source);
  return make_contents(h, source, [&](uint64_t offset, void* dst, size_t bytes) {
    std::memcpy(dst, buffer + offset, bytes);
  });
}

SafetensorsContents load_safetensors(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) fail(path, "is a directory, not a file");
  std::ifstream f(path, std::ios::binary);
  if (!f) fail(path, "cannot open for reading: ", std::strerror(errno));
  f.seekg(0, std::ios::end);
  std::streamoff end = f.tellg();
  if (!f || end < 0) fail(path, "cannot determine the file size (is it a regular file?)");
  uint64_t file_size = uint64_t(end);
  f.seekg(0, std::ios::beg);

  // Reads exactly `bytes` bytes at `pos`; the size was checked, so a short read is an I/O error.
  auto read_at = [&](uint64_t pos, void* dst, size_t bytes) {
    f.seekg(std::streamoff(pos), std::ios::beg);
    f.read(static_cast<char*>(dst), std::streamsize(bytes));
    if (!f || size_t(f.gcount()) != bytes) fail(path, "read of ", bytes, " bytes at byte ", pos, " failed");
  };
  uint8_t prefix[kLengthPrefixBytes] = {};
  read_at(0, prefix, size_t(std::min(file_size, kLengthPrefixBytes)));
  uint64_t n = check_header_length(prefix, file_size, path);
  std::vector<uint8_t> header_text(n);
  if (n > 0) read_at(kLengthPrefixBytes, header_text.data(), n);
  uint64_t data_start = kLengthPrefixBytes + n;
  Header h = parse_header(header_text.data(), n, file_size - data_start, path);
  // Tensors are read straight into their storage: a checkpoint is never held twice in memory.
  return make_contents(h, path, [&](uint64_t offset, void* dst, size_t bytes) {
    read_at(data_start + offset, dst, bytes);
  });
}

// --- writing ---

void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header[kMetadataKey] = metadata;
  std::set<std::string> seen;
  std::vector<Tensor> host;  // host copies, in the given order
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    if (name.empty()) fail(path, "cannot save a tensor with an empty name");
    if (name == kMetadataKey) fail(path, "cannot save a tensor named '", kMetadataKey, "' (reserved)");
    if (!seen.insert(name).second) fail(path, "duplicate tensor name '", name, "'");
    if (!t.defined()) fail(path, "tensor '", name, "' is undefined");
    host.push_back(t.to(Device::CPU));
    uint64_t bytes = host.back().nbytes();
    header[name] = {{"dtype", format_dtype_name(t.dtype())},
                    {"shape", t.shape()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {
    fail(path, "cannot encode the header (a name or metadata string is not valid UTF-8?): ", e.what());
  }
  text.append((8 - text.size() % 8) % 8, ' ');  // the data buffer then starts 8-byte aligned

  // Atomic: `path` is either the old file or the complete new one.
  write_file_atomic(path, [&](std::ostream& out) {
    uint8_t prefix[kLengthPrefixBytes];
    for (size_t i = 0; i < kLengthPrefixBytes; ++i) prefix[i] = uint8_t(uint64_t(text.size()) >> (8 * i));
    out.write(reinterpret_cast<const char*>(prefix), sizeof(prefix));
    out.write(text.data(), std::streamsize(text.size()));
    out.flush();
    fault_point("safetensors.header_written");  // a kill here leaves a partial '.tmp' file
    for (const Tensor& t : host)
      if (t.nbytes() > 0) out.write(static_cast<const char*>(t.raw_data()), std::streamsize(t.nbytes()));
  });
}

}  // namespace mtinet
