// torch.save() files: telling the two formats apart, locating each storage's bytes (a zip entry, or a run of the
// legacy file after its pickles), and copying every tensor view out of its storage into a contiguous tensor.
#include "core/torch_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <unordered_set>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/torch_pickle.h"
#include "core/torch_zip.h"

namespace mtinet {

// Storage bytes are copied as they are: both formats are little-endian (checked) and so must the host be.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "torch file reading assumes a little-endian host");

namespace {

using torch_detail::Unpickler;
using torch_detail::ZipArchive;
using Kind = TorchValue::Kind;

// The legacy format starts with the pickled magic number 0x1950a86a20f9469cfc6c: PROTO 2, LONG1 of 10 bytes.
const uint8_t kLegacyPrefix[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
constexpr int64_t kLegacyProtocolVersion = 1001;

template <class... Parts>
[[noreturn]] void fail(const std::string& source, const Parts&... parts) {
  throw Error(detail::concat("torch file '", source, "': ", parts...));
}

uint64_t storage_bytes(const TorchStorageRef& s) { return uint64_t(s.numel) * dtype_size(s.dtype); }

// Copies the strided view `t` describes out of its storage's bytes into a fresh contiguous tensor. The view was
// checked against the storage's element count by the unpickler and the bytes against that count by the caller.
Tensor materialise(const TorchValue& t, const uint8_t* storage) {
  const TorchStorageRef& s = t.storage->storage_ref;
  Tensor out = Tensor::empty(t.sizes, s.dtype, Device::CPU);
  const size_t es = dtype_size(s.dtype);
  const int64_t numel = out.numel();
  if (numel == 0) return out;
  uint8_t* dst = static_cast<uint8_t*>(out.raw_data());
  const int nd = int(t.sizes.size());
  // Contiguous (dims of size 1 may carry any stride): one copy.
  bool contiguous = true;
  for (int64_t i = nd - 1, expect = 1; i >= 0; --i) {
    if (t.sizes[i] != 1 && t.strides[i] != expect) contiguous = false;
    expect *= t.sizes[i];
  }
  if (contiguous) {
    std::memcpy(dst, storage + uint64_t(t.storage_offset) * es, size_t(numel) * es);
    return out;
  }
  // Otherwise walk the index like an odometer, copying the innermost dimension in a loop.
  std::vector<int64_t> index(size_t(nd), 0);
  const int64_t inner = t.sizes[nd - 1], inner_stride = t.strides[nd - 1];
  for (int64_t done = 0; done < numel; done += inner) {
    int64_t src = t.storage_offset;
    for (int d = 0; d < nd - 1; ++d) src += index[d] * t.strides[d];
    for (int64_t i = 0; i < inner; ++i, dst += es) {
      std::memcpy(dst, storage + uint64_t(src + i * inner_stride) * es, es);
    }
    for (int d = nd - 2; d >= 0 && ++index[d] == t.sizes[d]; --d) index[d] = 0;
  }
  return out;
}

// Every tensor is a copy, so a small file could ask for far more memory than it holds: many views of one storage
// (slices, transposes, expand()), or one tensor rebuilt as many parameters. The tensors' bytes in all may exceed the
// file's own size by at most this much, checked before anything is allocated.
constexpr uint64_t kMaxExtraTensorBytes = uint64_t(256) << 20;

// Gives every tensor reachable from the root its data. Iterative, so any nesting depth is fine; shared nodes are
// visited once, so a tensor stored under two names is one Tensor.
void materialise_all(TorchFile& f, const std::map<std::string, const uint8_t*>& bytes, uint64_t file_size) {
  std::vector<TorchValue*> tensors;
  std::vector<const TorchValue*> todo{f.root};
  std::unordered_set<const TorchValue*> seen{f.root};
  auto visit = [&](const TorchValue* v) {
    if (v && seen.insert(v).second) todo.push_back(v);
  };
  uint64_t total = 0;  // each view is at most 2^62 bytes (core/torch_pickle.cpp), so one addition cannot wrap
  while (!todo.empty()) {
    TorchValue* v = const_cast<TorchValue*>(todo.back());  // the nodes are ours: f.arena owns them
    todo.pop_back();
    if (v->kind == Kind::Tensor) {
      tensors.push_back(v);
      uint64_t n = dtype_size(v->storage->storage_ref.dtype);
      for (int64_t d : v->sizes) n *= uint64_t(d);
      total += n;
      if (total > file_size + kMaxExtraTensorBytes) {
        fail(f.source, "its tensors would take more than ", kMaxExtraTensorBytes >> 20, " MB beyond the file's ",
             file_size, " bytes (views or parameters that repeat one storage many times)");
      }
    }
    for (const TorchValue* c : v->items) visit(c);
    for (const auto& [k, val] : v->entries) {
      visit(k);
      visit(val);
    }
    visit(v->attributes);
  }
  for (TorchValue* v : tensors) v->tensor = materialise(*v, bytes.at(v->storage->storage_ref.key));
}

// Checks that a storage's bytes hold exactly the elements its record declares.
void check_storage_size(const TorchStorageRef& s, uint64_t have, const std::string& where, const std::string& source) {
  if (have != storage_bytes(s)) {
    fail(source, "storage '", s.key, "' (", where, ") holds ", have, " bytes, but its record declares ", s.numel,
         " elements of ", s.type, " (", storage_bytes(s), " bytes)");
  }
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

TorchFile read_zip(const uint8_t* data, size_t size, const std::string& source) {
  ZipArchive zip(data, size, source);
  TorchFile f;
  f.source = source;
  f.format = "zip";
  // The archive folder is whatever torch.save named it (the file's stem, or "archive"): find <folder>/data.pkl.
  const torch_detail::ZipEntry* pickle = nullptr;
  for (const auto& [name, entry] : zip.entries()) {
    size_t slash = name.find('/');
    if (slash == std::string::npos || name.substr(slash + 1) != "data.pkl") continue;
    if (pickle) fail(source, "the zip archive holds two pickles ('", pickle->name, "' and '", name, "')");
    pickle = &entry;
    f.archive = name.substr(0, slash);
  }
  if (!pickle) fail(source, "zip archive without <archive>/data.pkl: not a file written by torch.save()");
  const std::string prefix = f.archive + "/";
  if (const auto* e = zip.find(prefix + "byteorder")) {
    std::string order(reinterpret_cast<const char*>(zip.bytes(*e)), e->size);
    if (order != "little") fail(source, "byte order '", order.substr(0, 16), "' is not supported (only little)");
  }
  if (const auto* e = zip.find(prefix + "version")) {
    std::string v = trimmed(std::string(reinterpret_cast<const char*>(zip.bytes(*e)), e->size));
    if (v.empty() || v.size() > 6 || v.find_first_not_of("0123456789") != std::string::npos) {
      fail(source, "version record '", v.substr(0, 16), "' is not a number");
    }
    f.version = std::stoll(v);
  }

  Unpickler unpickler(*f.arena, source);
  uint64_t pos = 0;
  f.root = unpickler.load(zip.bytes(*pickle), pickle->size, pos, "data.pkl");
  std::map<std::string, const uint8_t*> bytes;
  for (const auto& [key, node] : unpickler.storages()) {
    const std::string name = prefix + "data/" + key;
    const auto* e = zip.find(name);
    if (!e) fail(source, "storage '", key, "' has no entry '", name, "' in the archive (truncated file?)");
    check_storage_size(node->storage_ref, e->size, "entry '" + name + "'", source);
    bytes[key] = zip.bytes(*e);
  }
  materialise_all(f, bytes, size);
  return f;
}

// Legacy layout: pickles of the magic number, the protocol version, the system info and the object, a pickled list
// of storage keys, then per key an 8-byte little-endian element count followed by the elements.
TorchFile read_legacy(const uint8_t* data, size_t size, const std::string& source) {
  TorchFile f;
  f.source = source;
  f.format = "legacy";
  Unpickler unpickler(*f.arena, source);
  uint64_t pos = 0;
  const TorchValue* magic = unpickler.load(data, size, pos, "the magic-number pickle");
  if (magic->kind != Kind::BigInt || magic->text != std::string(reinterpret_cast<const char*>(kLegacyPrefix + 4), 10)) {
    fail(source, "wrong magic number: not a file written by torch.save()");
  }
  const TorchValue* protocol = unpickler.load(data, size, pos, "the protocol-version pickle");
  if (protocol->kind != Kind::Int || protocol->integer != kLegacyProtocolVersion) {
    fail(source, "legacy protocol version is not ", kLegacyProtocolVersion);
  }
  f.version = protocol->integer;
  const TorchValue* info = unpickler.load(data, size, pos, "the system-info pickle");
  if (info->kind != Kind::Dict) fail(source, "system info is a ", info->kind_name(), ", not a dict");
  const TorchValue* little = info->get("little_endian");
  if (little && !(little->kind == Kind::Bool && little->boolean)) {
    fail(source, "the file was written on a big-endian machine, which is not supported");
  }
  f.root = unpickler.load(data, size, pos, "the object pickle");
  const TorchValue* keys = unpickler.load(data, size, pos, "the storage-key pickle");
  if (keys->kind != Kind::List) fail(source, "storage key list is a ", keys->kind_name(), ", not a list");

  std::map<std::string, const uint8_t*> bytes;
  for (const TorchValue* k : keys->items) {
    if (k->kind != Kind::String) fail(source, "storage key is a ", k->kind_name(), ", not a string");
    auto it = unpickler.storages().find(k->text);
    if (it == unpickler.storages().end()) fail(source, "storage key '", k->text, "' is listed but never used");
    if (bytes.count(k->text)) fail(source, "storage key '", k->text, "' is listed twice");
    const TorchStorageRef& s = it->second->storage_ref;
    if (size - pos < 8) {
      fail(source, "storage '", s.key, "': element count at byte ", pos, " is cut off (truncated file?)");
    }
    uint64_t count = 0;
    for (int i = 7; i >= 0; --i) count = (count << 8) | data[pos + uint64_t(i)];
    pos += 8;
    if (count != uint64_t(s.numel)) {
      fail(source, "storage '", s.key, "' has ", count, " elements in the file, but its record declares ", s.numel);
    }
    if (storage_bytes(s) > size - pos) {
      fail(source, "storage '", s.key, "' needs ", storage_bytes(s), " bytes at byte ", pos, " but only ", size - pos,
           " remain (truncated file?)");
    }
    bytes[s.key] = data + pos;
    pos += storage_bytes(s);
  }
  for (const auto& [key, node] : unpickler.storages()) {
    if (!bytes.count(key)) fail(source, "storage '", key, "' is used but missing from the storage key list");
  }
  materialise_all(f, bytes, size);
  return f;
}

// A read-only memory map of a whole file: checkpoints are read in place, never held twice in memory.
class MappedFile {
 public:
  explicit MappedFile(const std::string& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) fail(path, "is a directory, not a file");
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) fail(path, "cannot open for reading: ", std::strerror(errno));
    struct stat st {};
    if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) fail(path, "is not a regular file");
    size_ = size_t(st.st_size);
    if (size_ == 0) fail(path, "the file is empty");
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
    if (p == MAP_FAILED) fail(path, "cannot map the file: ", std::strerror(errno));
    data_ = static_cast<const uint8_t*>(p);
  }
  ~MappedFile() {
    if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
    if (fd_ >= 0) ::close(fd_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  int fd_ = -1;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace

// --- TorchValue ---

const TorchValue* TorchValue::get(const std::string& key) const {
  const TorchValue* found = nullptr;
  for (const auto& [k, v] : entries) {
    if (k->kind == Kind::String && k->text == key) found = v;
  }
  return found;
}

std::string TorchValue::kind_name() const {
  switch (kind) {
    case Kind::None: return "None";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::BigInt: return "int (beyond 64 bits)";
    case Kind::Float: return "float";
    case Kind::String: return "str";
    case Kind::Bytes: return "bytes";
    case Kind::Tuple: return "tuple";
    case Kind::List: return "list";
    case Kind::Dict: return ordered ? "OrderedDict" : "dict";
    case Kind::Tensor: return "tensor";
    case Kind::Storage: return "storage";
    case Kind::Global: return "global";
  }
  return "?";
}

// --- reading ---

bool looks_like_torch_file(const uint8_t* data, size_t size) {
  return torch_detail::looks_like_zip(data, size) ||
         (size >= sizeof(kLegacyPrefix) && std::memcmp(data, kLegacyPrefix, sizeof(kLegacyPrefix)) == 0);
}

TorchFile parse_torch_file(const uint8_t* data, size_t size, const std::string& source) {
  if (torch_detail::looks_like_zip(data, size)) return read_zip(data, size, source);
  if (size >= sizeof(kLegacyPrefix) && std::memcmp(data, kLegacyPrefix, sizeof(kLegacyPrefix)) == 0) {
    return read_legacy(data, size, source);
  }
  if (size >= 262 && std::memcmp(data + 257, "ustar", 5) == 0) {
    fail(source, "a tar archive: PyTorch's pre-0.4 tar format is not supported");
  }
  fail(source, "not a PyTorch file: neither a zip archive nor the legacy format's magic number");
}

TorchFile read_torch_file(const std::string& path) {
  MappedFile file(path);
  return parse_torch_file(file.data(), file.size(), path);  // tensors are copies: the map may go
}

}  // namespace mtinet
