// save_torch_state_dict(): the pickle emitted here is what torch.save(OrderedDict of contiguous CPU tensors) emits
// at protocol 2, minus the memo (BINPUT/BINGET only save bytes; every unpickler works without them):
//   OrderedDict() then, per tensor, name -> _rebuild_tensor_v2(('storage', torch.<T>Storage, key, 'cpu', numel),
//   storage_offset 0, sizes, contiguous strides, requires_grad False, OrderedDict() for backward hooks).
#include "core/torch_write.h"

#include <map>

#include "core/error.h"
#include "core/file_io.h"
#include "core/torch_zip_writer.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "torch files are written little-endian, as in memory");

namespace mtinet {

namespace {

// The few pickle opcodes a state_dict needs (names as in CPython's pickle.py).
class PickleEmitter {
 public:
  std::string bytes;

  void proto2() { bytes += "\x80\x02"; }
  void global(const char* module, const char* name) { bytes += std::string("c") + module + "\n" + name + "\n"; }
  void mark() { bytes += '('; }
  void tuple() { bytes += 't'; }  // the items since the last mark
  void empty_tuple() { bytes += ')'; }
  void reduce() { bytes += 'R'; }
  void setitems() { bytes += 'u'; }
  void binpersid() { bytes += 'Q'; }
  void newfalse() { bytes += '\x89'; }
  void stop() { bytes += '.'; }
  void string(const std::string& s) {  // BINUNICODE: UTF-8 bytes; state_dict names are ASCII in practice
    bytes += 'X';
    little_endian(s.size(), 4);
    bytes += s;
  }
  void integer(int64_t v) {
    if (v >= 0 && v < 256) {
      bytes += 'K';  // BININT1
      little_endian(uint64_t(v), 1);
    } else if (v >= 0 && v < 65536) {
      bytes += 'M';  // BININT2
      little_endian(uint64_t(v), 2);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
      bytes += 'J';  // BININT, signed 32-bit
      little_endian(uint64_t(uint32_t(int32_t(v))), 4);
    } else {
      bytes += "\x8a\x08";  // LONG1: 8 bytes of two's complement
      little_endian(uint64_t(v), 8);
    }
  }
  void int_tuple(const std::vector<int64_t>& values) {
    mark();
    for (int64_t v : values) integer(v);
    tuple();
  }

 private:
  void little_endian(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) bytes += char(uint8_t(v >> (8 * i)));
  }
};

// torch's name for a storage of each dtype (torch/storage.py's legacy typed storages, which torch.save still names).
const char* storage_type(DType dt, bool is_bool) {
  if (is_bool) return "BoolStorage";
  switch (dt) {
    case DType::F32: return "FloatStorage";
    case DType::F64: return "DoubleStorage";
    case DType::F16: return "HalfStorage";
    case DType::BF16: return "BFloat16Storage";
    case DType::I64: return "LongStorage";
    case DType::I32: return "IntStorage";
    case DType::U8: return "ByteStorage";
  }
  return nullptr;
}

// Row-major strides; a zero-size dimension counts as 1, as torch's contiguous strides do.
std::vector<int64_t> contiguous_strides(const Shape& shape) {
  std::vector<int64_t> strides(shape.size());
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= shape[i] > 1 ? shape[i] : 1;
  }
  return strides;
}

template <class... Parts>
[[noreturn]] void fail(const std::string& target, const Parts&... parts) {
  throw Error(detail::concat("writing torch file '", target, "': ", parts...));
}

void check_bool_values(const Tensor& host, const std::string& name, const std::string& target) {
  if (host.dtype() != DType::U8) {
    fail(target, "tensor '", name, "' is to be written as bool but is ", dtype_name(host.dtype()), ", not u8");
  }
  const uint8_t* p = static_cast<const uint8_t*>(host.raw_data());
  for (int64_t i = 0; i < host.numel(); ++i) {
    if (p[i] > 1) fail(target, "tensor '", name, "' is to be written as bool but element ", i, " is ", int(p[i]));
  }
}

}  // namespace

void write_torch_state_dict(std::ostream& out, const std::vector<std::pair<std::string, Tensor>>& tensors,
                            const TorchSaveOptions& options, const std::string& target) {
  if (options.archive.empty() || options.archive.find('/') != std::string::npos) {
    fail(target, "archive folder name '", options.archive, "' must be non-empty and without '/'");
  }
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& [name, t] = tensors[i];
    if (name.empty()) fail(target, "tensor ", i, " has an empty name");
    if (!seen.emplace(name, i).second) fail(target, "two tensors are named '", name, "'");
    if (!t.defined()) fail(target, "tensor '", name, "' is undefined");
  }
  for (const std::string& name : options.bool_tensors) {
    if (!seen.count(name)) fail(target, "bool tensor '", name, "' is not among the tensors written");
  }

  // Host copies first: the pickle needs nothing from them, but a failing copy should fail before any byte is out.
  std::vector<Tensor> host;
  host.reserve(tensors.size());
  for (const auto& [name, t] : tensors) {
    host.push_back(t.device() == Device::CPU ? t : t.to(Device::CPU));
    if (options.bool_tensors.count(name)) check_bool_values(host.back(), name, target);
  }

  PickleEmitter p;
  p.proto2();
  p.global("collections", "OrderedDict");
  p.empty_tuple();
  p.reduce();
  p.mark();
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = host[i];
    p.string(tensors[i].first);
    p.global("torch._utils", "_rebuild_tensor_v2");
    p.mark();
    p.mark();  // the persistent id: ('storage', type, key, location, numel)
    p.string("storage");
    p.global("torch", storage_type(t.dtype(), options.bool_tensors.count(tensors[i].first) > 0));
    p.string(std::to_string(i));
    p.string("cpu");
    p.integer(t.numel());
    p.tuple();
    p.binpersid();
    p.integer(0);  // storage offset
    p.int_tuple(t.shape());
    p.int_tuple(contiguous_strides(t.shape()));
    p.newfalse();  // requires_grad
    p.global("collections", "OrderedDict");  // backward hooks
    p.empty_tuple();
    p.reduce();
    p.tuple();
    p.reduce();
  }
  p.setitems();
  p.stop();

  torch_detail::ZipStoreWriter zip(out, target);
  const std::string dir = options.archive + "/";
  zip.add(dir + "data.pkl", p.bytes.data(), p.bytes.size());  // first: torch takes the folder name from entry 0
  zip.add(dir + "byteorder", "little", 6);
  for (size_t i = 0; i < host.size(); ++i) {
    zip.add(dir + "data/" + std::to_string(i), host[i].raw_data(), host[i].nbytes());
  }
  zip.add(dir + "version", "3\n", 2);  // torch writes the number and a newline
  zip.finish();
}

void save_torch_state_dict(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                           const TorchSaveOptions& options) {
  write_file_atomic(path, [&](std::ostream& out) { write_torch_state_dict(out, tensors, options, path); });
}

}  // namespace mtinet
