// The restricted unpickler. It mirrors CPython's pickle machine (a value stack, a stack of marks, a memo) for the
// opcodes torch.save() emits, but every callable is one of a few known functions implemented here, so a hostile
// file can at worst be rejected. All lengths, indices and counts from the file are checked before use, and the
// number of nodes is bounded, so a malformed pickle fails with a message instead of crashing or exhausting memory.
#include "core/torch_pickle.h"

#include <cstring>
#include <unordered_map>
#include <vector>

#include "core/error.h"

namespace mtinet::torch_detail {

namespace {

using Kind = TorchValue::Kind;

// Bounds on what one file may make us build. A state_dict of 10k tensors needs about 150k nodes.
constexpr size_t kMaxNodes = size_t(1) << 21;
constexpr int kMaxTensorDims = 64;
constexpr uint64_t kMaxGlobalNameBytes = 256;
// Tensors whose strides overlap (stride 0, expand()) hold more elements than their storage; what they may add in
// all is bounded so a tiny file cannot ask for terabytes.
constexpr uint64_t kMaxAmplifiedBytes = uint64_t(256) << 20;
// A storage's or a tensor's bytes: below 2^62, so element counts times element sizes (and sums of a few) never
// wrap. Counting elements alone let 2^61 + 1 doubles (2^64 + 8 bytes) wrap to an 8-byte allocation.
constexpr uint64_t kMaxBytes = uint64_t(1) << 62;
int64_t max_elements(DType dtype) { return int64_t(kMaxBytes / dtype_size(dtype)); }

struct StorageType {
  const char* name;
  DType dtype;
  bool is_bool;
};

// The storage types of the dtypes mtinet holds. torch 2.x names untyped storages (bytes) UntypedStorage.
const StorageType kStorageTypes[] = {
    {"FloatStorage", DType::F32, false},   {"DoubleStorage", DType::F64, false}, {"HalfStorage", DType::F16, false},
    {"BFloat16Storage", DType::BF16, false}, {"LongStorage", DType::I64, false}, {"IntStorage", DType::I32, false},
    {"ByteStorage", DType::U8, false},     {"BoolStorage", DType::U8, true},     {"UntypedStorage", DType::U8, false},
};

// Storage types torch has but mtinet has no dtype for: harmless, refused with a clearer message than "global".
const char* const kUnsupportedStorageTypes[] = {
    "CharStorage", "ShortStorage", "ComplexFloatStorage", "ComplexDoubleStorage", "QInt8Storage", "QUInt8Storage",
    "QInt32Storage", "QUInt4x2Storage", "QUInt2x4Storage"};

// The callables the allow-list holds (Global nodes carry the full "module.name" in `text`).
const char* const kOrderedDict = "collections.OrderedDict";
const char* const kRebuildTensorV2 = "torch._utils._rebuild_tensor_v2";
const char* const kRebuildTensor = "torch._utils._rebuild_tensor";
const char* const kRebuildParameter = "torch._utils._rebuild_parameter";
const char* const kRebuildParameterWithState = "torch._utils._rebuild_parameter_with_state";
const char* const kCodecsEncode = "_codecs.encode";  // protocol 2 pickles bytes as _codecs.encode(str, 'latin1')

const StorageType* storage_type_of(const std::string& global) {
  for (const char* module : {"torch.", "torch.storage."}) {
    if (global.rfind(module, 0) != 0) continue;
    std::string name = global.substr(std::strlen(module));
    for (const StorageType& t : kStorageTypes) {
      if (name == t.name) return &t;
    }
  }
  return nullptr;
}

std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s.substr(0, 80)) out += (c >= 32 && c < 127) ? char(c) : '?';
  return s.size() > 80 ? out + "..." : out;
}

// Decodes UTF-8 into code points below 256 (the latin1 argument of _codecs.encode); false for anything else.
bool utf8_to_latin1(const std::string& in, std::string& out) {
  for (size_t i = 0; i < in.size(); ++i) {
    unsigned char c = in[i];
    if (c < 0x80) {
      out += char(c);
    } else if ((c & 0xE0) == 0xC0 && c <= 0xC3 && i + 1 < in.size() && (in[i + 1] & 0xC0) == 0x80) {
      out += char(((c & 0x1F) << 6) | (in[++i] & 0x3F));
    } else {
      return false;
    }
  }
  return true;
}

// One pickle being read: the machine state and the opcode implementations.
class Machine {
 public:
  Machine(std::deque<TorchValue>& arena, const std::string& source, const std::string& what,
          std::map<std::string, TorchValue*>& storages, uint64_t& amplified, const uint8_t* data, uint64_t size,
          uint64_t pos)
      : arena_(arena), source_(source), what_(what), storages_(storages), amplified_(amplified), data_(data),
        size_(size), pos_(pos) {}

  const TorchValue* run(uint64_t& end);

 private:
  template <class... Parts>
  [[noreturn]] void fail(const Parts&... parts) const {
    throw Error(detail::concat("torch file '", source_, "': ", what_, " byte ", op_pos_, ": ", parts...));
  }

  // --- reading the opcode stream ---
  const uint8_t* take(uint64_t n) {
    if (n > size_ - pos_) fail("needs ", n, " more bytes but only ", size_ - pos_, " remain (truncated pickle?)");
    const uint8_t* p = data_ + pos_;
    pos_ += n;
    return p;
  }
  uint64_t read_uint(int bytes) {
    const uint8_t* p = take(uint64_t(bytes));
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
    return v;
  }
  std::string read_bytes(uint64_t n) {
    const uint8_t* p = take(n);  // checked against the remaining input before any allocation
    return std::string(reinterpret_cast<const char*>(p), n);
  }
  std::string read_line() {
    for (uint64_t i = pos_; i < size_ && i - pos_ <= kMaxGlobalNameBytes; ++i) {
      if (data_[i] == '\n') {
        std::string s(reinterpret_cast<const char*>(data_ + pos_), i - pos_);
        pos_ = i + 1;
        return s;
      }
    }
    fail("GLOBAL name not terminated within ", kMaxGlobalNameBytes, " bytes");
  }

  // --- nodes and the stack ---
  TorchValue* node(Kind kind) {
    if (arena_.size() >= kMaxNodes) fail("more than ", kMaxNodes, " objects: refusing to build more");
    arena_.emplace_back();
    arena_.back().kind = kind;
    return &arena_.back();
  }
  void push(TorchValue* v) { stack_.push_back(v); }
  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  TorchValue* pop() {
    if (stack_.size() <= floor()) fail("stack underflow");
    TorchValue* v = stack_.back();
    stack_.pop_back();
    return v;
  }
  TorchValue* top() {
    if (stack_.size() <= floor()) fail("stack underflow");
    return stack_.back();
  }
  std::vector<TorchValue*> pop_mark() {
    if (marks_.empty()) fail("no MARK to pop to");
    size_t m = marks_.back();
    marks_.pop_back();
    std::vector<TorchValue*> items(stack_.begin() + ptrdiff_t(m), stack_.end());
    stack_.resize(m);
    return items;
  }
  void memo_put(uint64_t index) {
    TorchValue* v = top();
    memo_[index] = v;
  }
  void memo_get(uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) fail("memo index ", index, " out of range (memo holds ", memo_.size(), " entries)");
    push(it->second);
  }

  TorchValue* make_int(int64_t v) {
    TorchValue* n = node(Kind::Int);
    n->integer = v;
    return n;
  }
  TorchValue* make_long(const uint8_t* p, uint64_t n);
  TorchValue* make_tuple(std::vector<TorchValue*> items) {
    TorchValue* n = node(Kind::Tuple);
    n->items = std::move(items);
    return n;
  }
  TorchValue* dict_target() {
    TorchValue* d = top();
    if (d->kind != Kind::Dict) fail("SETITEM(S) on a ", d->kind_name(), ", not a dict");
    return d;
  }
  TorchValue* list_target() {
    TorchValue* l = top();
    if (l->kind != Kind::List) fail("APPEND(S) on a ", l->kind_name(), ", not a list");
    return l;
  }

  // --- globals, persistent ids, calls ---
  TorchValue* global(const std::string& module, const std::string& name);
  TorchValue* persistent_load(const TorchValue* pid);
  TorchValue* call(const TorchValue* callable, const TorchValue* args);
  TorchValue* rebuild_tensor(const std::vector<TorchValue*>& a, const char* fn);
  int64_t int_arg(const TorchValue* v, const char* what) const {
    if (v->kind != Kind::Int) fail(what, " is a ", v->kind_name(), ", not an integer");
    return v->integer;
  }
  std::vector<int64_t> int_tuple(const TorchValue* v, const char* what) const;

  std::deque<TorchValue>& arena_;
  const std::string& source_;
  const std::string& what_;
  std::map<std::string, TorchValue*>& storages_;
  uint64_t& amplified_;
  const uint8_t* data_;
  uint64_t size_;
  uint64_t pos_;
  uint64_t op_pos_ = 0;  // where the current opcode began, for messages
  std::vector<TorchValue*> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, TorchValue*> memo_;
};

// LONG1/LONG4: little-endian two's complement. Values beyond int64 are kept as bytes (Kind::BigInt).
TorchValue* Machine::make_long(const uint8_t* p, uint64_t n) {
  if (n <= 8) {
    uint64_t v = 0;
    for (uint64_t i = 0; i < n; ++i) v |= uint64_t(p[i]) << (8 * i);
    if (n > 0 && n < 8 && (p[n - 1] & 0x80)) v |= ~uint64_t(0) << (8 * n);  // sign-extend
    return make_int(int64_t(v));
  }
  TorchValue* b = node(Kind::BigInt);
  b->text.assign(reinterpret_cast<const char*>(p), n);
  return b;
}

TorchValue* Machine::global(const std::string& module, const std::string& name) {
  std::string full = module + "." + name;
  bool allowed = full == kOrderedDict || full == kRebuildTensorV2 || full == kRebuildTensor ||
                 full == kRebuildParameter || full == kRebuildParameterWithState || full == kCodecsEncode ||
                 storage_type_of(full) != nullptr;
  if (!allowed) {
    if (module == "torch") {
      for (const char* t : kUnsupportedStorageTypes) {
        if (name == t) fail("tensor storage type 'torch.", name, "' is not supported (mtinet holds f32, f64, f16, ",
                            "bf16, i64, i32, u8 and bool)");
      }
    }
    throw Error(detail::concat("refusing to load global '", printable(full), "' from torch file '", source_, "' (",
                               what_, " byte ", op_pos_, "): only tensors and plain containers are allowed"));
  }
  TorchValue* g = node(Kind::Global);
  g->text = full;
  return g;
}

// A persistent id ('storage', <storage type>, key, location, numel[, view metadata]) names one storage; the zip
// format has 5 fields, the legacy format a 6th that is None unless the storage is a view (pre-1.0 files).
TorchValue* Machine::persistent_load(const TorchValue* pid) {
  const auto& f = pid->items;
  if (pid->kind != Kind::Tuple || f.size() < 5 || f.size() > 6 || f[0]->kind != Kind::String ||
      f[0]->text != "storage") {
    fail("persistent id is not a ('storage', type, key, location, numel) tuple");
  }
  const StorageType* type = f[1]->kind == Kind::Global ? storage_type_of(f[1]->text) : nullptr;
  if (!type) fail("persistent id names a ", f[1]->kind_name(), " '", printable(f[1]->text), "', not a storage type");
  if (f[2]->kind != Kind::String) fail("persistent id key is a ", f[2]->kind_name(), ", not a string");
  if (f[3]->kind != Kind::String) fail("persistent id location is a ", f[3]->kind_name(), ", not a string");
  int64_t numel = int_arg(f[4], "persistent id element count");
  if (numel < 0 || numel > max_elements(type->dtype)) {
    fail("storage '", printable(f[2]->text), "' declares ", numel, " elements of ", f[1]->text,
         numel < 0 ? "" : ", more than 2^62 bytes");
  }
  if (f.size() == 6 && f[5]->kind != Kind::None) {
    fail("storage '", printable(f[2]->text), "' is a storage view (files from PyTorch < 1.0), not supported");
  }
  const std::string& key = f[2]->text;
  const std::string type_name = f[1]->text.substr(f[1]->text.rfind('.') + 1);
  auto it = storages_.find(key);
  if (it != storages_.end()) {
    const TorchStorageRef& s = it->second->storage_ref;
    if (s.type != type_name || s.numel != numel) {
      fail("storage '", printable(key), "' is declared twice differently (", s.type, " of ", s.numel, " vs ",
           type_name, " of ", numel, ")");
    }
    return it->second;
  }
  TorchValue* s = node(Kind::Storage);
  s->storage_ref = TorchStorageRef{key, type_name, type->dtype, type->is_bool, numel, f[3]->text};
  storages_[key] = s;
  return s;
}

std::vector<int64_t> Machine::int_tuple(const TorchValue* v, const char* what) const {
  if (v->kind != Kind::Tuple && v->kind != Kind::List) fail(what, " is a ", v->kind_name(), ", not a tuple");
  if (v->items.size() > size_t(kMaxTensorDims)) fail(what, " has ", v->items.size(), " dimensions");
  std::vector<int64_t> out;
  for (const TorchValue* d : v->items) {
    int64_t x = int_arg(d, what);
    if (x < 0) fail(what, " holds the negative value ", x);
    out.push_back(x);
  }
  return out;
}

// _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]) and the
// older _rebuild_tensor(storage, storage_offset, size, stride). The view is checked against its storage here; the
// elements are copied once every storage has been located (core/torch_file.cpp).
TorchValue* Machine::rebuild_tensor(const std::vector<TorchValue*>& a, const char* fn) {
  bool v2 = std::strcmp(fn, kRebuildTensorV2) == 0;
  if (v2 ? (a.size() < 6 || a.size() > 7) : a.size() != 4) fail(fn, " called with ", a.size(), " arguments");
  if (a[0]->kind != Kind::Storage) fail(fn, ": first argument is a ", a[0]->kind_name(), ", not a storage");
  const TorchStorageRef& s = a[0]->storage_ref;
  int64_t offset = int_arg(a[1], "storage offset");
  std::vector<int64_t> sizes = int_tuple(a[2], "tensor size"), strides = int_tuple(a[3], "tensor stride");
  if (sizes.size() != strides.size()) fail("tensor has ", sizes.size(), " sizes but ", strides.size(), " strides");
  if (v2 && a[4]->kind != Kind::Bool) fail("requires_grad is a ", a[4]->kind_name(), ", not a bool");
  if (v2 && (a[5]->kind != Kind::Dict || !a[5]->entries.empty())) fail("tensor has backward hooks");
  if (offset < 0) fail("negative storage offset ", offset);
  // Elements the view spans, overflow-safe: it must fit in the storage.
  int64_t numel = 1, last = offset;
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (__builtin_mul_overflow(numel, sizes[i], &numel) || numel > max_elements(s.dtype)) {
      fail("tensor of size ", shape_str(sizes), " would take more than 2^62 bytes");
    }
  }
  if (numel > 0) {
    for (size_t i = 0; i < sizes.size(); ++i) {
      int64_t span = 0;
      if (__builtin_mul_overflow(sizes[i] - 1, strides[i], &span) || __builtin_add_overflow(last, span, &last)) {
        fail("tensor strides overflow");
      }
    }
    if (last >= s.numel) {
      fail("tensor (offset ", offset, ", size ", shape_str(sizes), ", stride ", shape_str(strides),
           ") reaches element ", last, " of storage '", printable(s.key), "', which holds ", s.numel, " elements");
    }
  }
  if (numel > s.numel) {
    uint64_t extra = uint64_t(numel - s.numel) * dtype_size(s.dtype);
    if (extra > kMaxAmplifiedBytes - amplified_) {
      fail("overlapping tensor views would need more than ", kMaxAmplifiedBytes, " bytes beyond their storages");
    }
    amplified_ += extra;
  }
  TorchValue* t = node(Kind::Tensor);
  t->storage = a[0];
  t->storage_offset = offset;
  t->sizes = std::move(sizes);
  t->strides = std::move(strides);
  t->requires_grad = v2 && a[4]->boolean;
  return t;
}

TorchValue* Machine::call(const TorchValue* callable, const TorchValue* args) {
  if (callable->kind != Kind::Global) fail("REDUCE calls a ", callable->kind_name(), ", not an allowed function");
  if (args->kind != Kind::Tuple) fail("REDUCE arguments are a ", args->kind_name(), ", not a tuple");
  const std::string& fn = callable->text;
  const std::vector<TorchValue*>& a = args->items;
  if (fn == kOrderedDict) {
    TorchValue* d = node(Kind::Dict);
    d->ordered = true;
    if (a.empty()) return d;
    if (a.size() != 1 || (a[0]->kind != Kind::List && a[0]->kind != Kind::Tuple)) {
      fail("OrderedDict called with arguments other than () or (list of pairs,)");
    }
    for (const TorchValue* pair : a[0]->items) {
      if ((pair->kind != Kind::List && pair->kind != Kind::Tuple) || pair->items.size() != 2) {
        fail("OrderedDict item is not a (key, value) pair");
      }
      d->entries.emplace_back(pair->items[0], pair->items[1]);
    }
    return d;
  }
  if (fn == kRebuildTensorV2 || fn == kRebuildTensor) return rebuild_tensor(a, fn.c_str());
  if (fn == kRebuildParameter || fn == kRebuildParameterWithState) {
    // (data, requires_grad, backward_hooks[, state]): the state holds Python attributes, ignored.
    if (a.size() != (fn == kRebuildParameter ? 3u : 4u)) fail(fn, " called with ", a.size(), " arguments");
    if (a[0]->kind != Kind::Tensor || a[1]->kind != Kind::Bool) fail(fn, " called with wrong argument types");
    if (a[2]->kind != Kind::Dict || !a[2]->entries.empty()) fail("parameter has backward hooks");
    TorchValue* p = node(Kind::Tensor);
    *p = *a[0];
    p->parameter = true;
    p->requires_grad = a[1]->boolean;
    return p;
  }
  if (fn == kCodecsEncode) {
    TorchValue* b = node(Kind::Bytes);
    if (a.size() != 2 || a[0]->kind != Kind::String || a[1]->kind != Kind::String || a[1]->text != "latin1" ||
        !utf8_to_latin1(a[0]->text, b->text)) {
      fail("_codecs.encode is allowed only as protocol 2 writes bytes: (text, 'latin1')");
    }
    return b;
  }
  fail("'", printable(fn), "' cannot be called");  // a storage type: torch never calls one in a pickle
}

const TorchValue* Machine::run(uint64_t& end) {
  for (;;) {
    op_pos_ = pos_;
    uint8_t op = *take(1);
    switch (op) {
      case 0x80: {  // PROTO
        uint8_t proto = *take(1);
        if (proto > 5) fail("pickle protocol ", int(proto), " is newer than 5");
        break;
      }
      case 0x95: {  // FRAME: a length hint for buffered readers; the whole pickle is in memory already
        uint64_t n = read_uint(8);
        if (n > size_ - pos_) fail("frame of ", n, " bytes extends past the end (truncated pickle?)");
        break;
      }
      case '.': {  // STOP
        const TorchValue* result = pop();
        end = pos_;
        return result;
      }
      case '(': marks_.push_back(stack_.size()); break;  // MARK
      case '0': pop(); break;                            // POP
      case '1': pop_mark(); break;                       // POP_MARK
      case '2': push(top()); break;                      // DUP
      case '}': push(node(Kind::Dict)); break;           // EMPTY_DICT
      case ']': push(node(Kind::List)); break;           // EMPTY_LIST
      case ')': push(make_tuple({})); break;             // EMPTY_TUPLE
      case 'N': push(node(Kind::None)); break;           // NONE
      case 0x88: case 0x89: {                             // NEWTRUE, NEWFALSE
        TorchValue* b = node(Kind::Bool);
        b->boolean = op == 0x88;
        push(b);
        break;
      }
      case 'J': push(make_int(int32_t(uint32_t(read_uint(4))))); break;  // BININT
      case 'K': push(make_int(int64_t(read_uint(1)))); break;            // BININT1
      case 'M': push(make_int(int64_t(read_uint(2)))); break;            // BININT2
      case 0x8a: {                                                        // LONG1
        uint64_t n = read_uint(1);
        push(make_long(take(n), n));
        break;
      }
      case 0x8b: {  // LONG4
        int32_t n = int32_t(uint32_t(read_uint(4)));
        if (n < 0) fail("LONG4 with negative length ", n);
        push(make_long(take(uint64_t(n)), uint64_t(n)));
        break;
      }
      case 'G': {  // BINFLOAT: big-endian IEEE double
        uint64_t bits = 0;
        const uint8_t* p = take(8);
        for (int i = 0; i < 8; ++i) bits = (bits << 8) | p[i];
        TorchValue* f = node(Kind::Float);
        std::memcpy(&f->number, &bits, 8);
        push(f);
        break;
      }
      case 'X': case 0x8c: case 0x8d: case 'B': case 'C': case 0x8e: {  // (SHORT_)BINUNICODE(8), (SHORT_)BINBYTES(8)
        int width = (op == 0x8c || op == 'C') ? 1 : (op == 0x8d || op == 0x8e) ? 8 : 4;
        uint64_t n = read_uint(width);
        TorchValue* s = node((op == 'X' || op == 0x8c || op == 0x8d) ? Kind::String : Kind::Bytes);
        s->text = read_bytes(n);
        push(s);
        break;
      }
      case 't': push(make_tuple(pop_mark())); break;  // TUPLE
      case 0x85: case 0x86: case 0x87: {              // TUPLE1, TUPLE2, TUPLE3
        std::vector<TorchValue*> items(size_t(op - 0x84));
        for (size_t i = items.size(); i-- > 0;) items[i] = pop();
        push(make_tuple(std::move(items)));
        break;
      }
      case 'l': {  // LIST (protocol 0/1, cheap to allow)
        TorchValue* l = node(Kind::List);
        l->items = pop_mark();
        push(l);
        break;
      }
      case 'd': {  // DICT
        std::vector<TorchValue*> kv = pop_mark();
        if (kv.size() % 2) fail("DICT with an odd number of items");
        TorchValue* d = node(Kind::Dict);
        for (size_t i = 0; i < kv.size(); i += 2) d->entries.emplace_back(kv[i], kv[i + 1]);
        push(d);
        break;
      }
      case 's': {  // SETITEM
        TorchValue* value = pop();
        TorchValue* key = pop();
        dict_target()->entries.emplace_back(key, value);
        break;
      }
      case 'u': {  // SETITEMS
        std::vector<TorchValue*> kv = pop_mark();
        if (kv.size() % 2) fail("SETITEMS with an odd number of items");
        TorchValue* d = dict_target();
        for (size_t i = 0; i < kv.size(); i += 2) d->entries.emplace_back(kv[i], kv[i + 1]);
        break;
      }
      case 'a': {  // APPEND
        TorchValue* value = pop();
        list_target()->items.push_back(value);
        break;
      }
      case 'e': {  // APPENDS
        std::vector<TorchValue*> values = pop_mark();
        TorchValue* l = list_target();
        l->items.insert(l->items.end(), values.begin(), values.end());
        break;
      }
      case 'q': memo_put(read_uint(1)); break;     // BINPUT
      case 'r': memo_put(read_uint(4)); break;     // LONG_BINPUT
      case 0x94: memo_put(memo_.size()); break;    // MEMOIZE
      case 'h': memo_get(read_uint(1)); break;     // BINGET
      case 'j': memo_get(read_uint(4)); break;     // LONG_BINGET
      case 'c': {                                  // GLOBAL "module\nname\n"
        std::string module = read_line();
        std::string name = read_line();
        push(global(module, name));
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        TorchValue* name = pop();
        TorchValue* module = pop();
        if (module->kind != Kind::String || name->kind != Kind::String) fail("STACK_GLOBAL of non-strings");
        push(global(module->text, name->text));
        break;
      }
      case 'Q': push(persistent_load(pop())); break;  // BINPERSID
      case 'R': {                                       // REDUCE
        TorchValue* args = pop();
        TorchValue* callable = pop();
        push(call(callable, args));
        break;
      }
      case 0x81: {  // NEWOBJ: cls.__new__(cls, *args); only an empty OrderedDict
        TorchValue* args = pop();
        TorchValue* cls = pop();
        if (cls->kind != Kind::Global || cls->text != kOrderedDict || args->kind != Kind::Tuple ||
            !args->items.empty()) {
          fail("NEWOBJ is allowed only for an empty OrderedDict");
        }
        push(call(cls, args));
        break;
      }
      case 'b': {  // BUILD: a state_dict's attributes ('_metadata') arrive this way; kept, never merged
        TorchValue* state = pop();
        TorchValue* obj = top();
        if (obj->kind != Kind::Dict) fail("BUILD on a ", obj->kind_name(), " is not supported");
        obj->attributes = state;
        break;
      }
      default:
        fail("pickle opcode 0x", "0123456789abcdef"[op >> 4], "0123456789abcdef"[op & 15],
             (op >= 32 && op < 127) ? detail::concat(" ('", char(op), "')") : std::string(),
             " is not supported in a torch file");
    }
  }
}

}  // namespace

Unpickler::Unpickler(std::deque<TorchValue>& arena, std::string source) : arena_(arena), source_(std::move(source)) {}

const TorchValue* Unpickler::load(const uint8_t* data, uint64_t size, uint64_t& pos, const std::string& what) {
  Machine m(arena_, source_, what, storages_, amplified_bytes_, data, size, pos);
  return m.run(pos);
}

}  // namespace mtinet::torch_detail
