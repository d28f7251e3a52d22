// torch.save() files read without Python: fixtures written by PyTorch 1.13 (tools/golden/torch_samples.py) in the
// zip and legacy formats checked value by value, the state_dict search, and hostile or corrupt files (committed
// ones and pickles built here byte by byte) failing with a message that names the file.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <sstream>

#include "core/torch_file.h"
#include "test_util.h"

using namespace mtinet;

namespace {

using Kind = TorchValue::Kind;

const std::string kDir = MTINET_FIXTURE_DIR "/torch/";

std::vector<uint8_t> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot open " << path);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

// Reading `path` must fail with a message naming it and containing `problem`.
void expect_file_error(const std::string& path, const std::string& problem) {
  std::string msg = error_of([&] { read_torch_file(path); });
  INFO("message: " << msg);
  CHECK(msg.find(path) != std::string::npos);
  CHECK(msg.find(problem) != std::string::npos);
}

// Element i of a tensor as a double; f16/bf16 decoded here so the check does not depend on kernels::convert.
double element(const Tensor& t, int64_t i) {
  const uint8_t* p = static_cast<const uint8_t*>(t.raw_data());
  switch (t.dtype()) {
    case DType::F32: return double(reinterpret_cast<const float*>(p)[i]);
    case DType::F64: return reinterpret_cast<const double*>(p)[i];
    case DType::I64: return double(reinterpret_cast<const int64_t*>(p)[i]);
    case DType::I32: return double(reinterpret_cast<const int32_t*>(p)[i]);
    case DType::U8: return double(p[i]);
    case DType::BF16: {
      uint32_t bits = uint32_t(reinterpret_cast<const uint16_t*>(p)[i]) << 16;
      float f;
      std::memcpy(&f, &bits, 4);
      return f;
    }
    case DType::F16: {
      uint16_t h = reinterpret_cast<const uint16_t*>(p)[i];
      int exp = (h >> 10) & 31, mant = h & 1023;
      double mag = exp == 0 ? std::ldexp(mant, -24) : std::ldexp(1024 + mant, exp - 25);
      return (h & 0x8000) ? -mag : mag;
    }
  }
  return NAN;
}

struct Expected {
  std::string name, dtype;
  Shape shape;
  std::vector<std::string> values;  // as written: hex floats or decimal integers
};

// expected.txt: file -> its state_dict's tensors in order.
std::map<std::string, std::vector<Expected>> read_expected() {
  std::ifstream in(kDir + "expected.txt");
  REQUIRE(in.good());
  std::map<std::string, std::vector<Expected>> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::istringstream ls(line);
    std::string file;
    Expected e;
    int ndim = 0;
    ls >> file >> e.name >> e.dtype >> ndim;
    e.shape.resize(size_t(ndim));
    for (int64_t& d : e.shape) ls >> d;
    for (std::string v; ls >> v;) e.values.push_back(v);
    out[file].push_back(e);
  }
  return out;
}

DType dtype_named(const std::string& s) {
  if (s == "f32") return DType::F32;
  if (s == "f64") return DType::F64;
  if (s == "f16") return DType::F16;
  if (s == "bf16") return DType::BF16;
  if (s == "i64") return DType::I64;
  if (s == "i32") return DType::I32;
  return DType::U8;  // u8 and bool
}

const TorchValue* at(const TorchValue* dict, const std::string& key) {
  REQUIRE(dict != nullptr);
  const TorchValue* v = dict->get(key);
  REQUIRE_MESSAGE(v != nullptr, "no key '" << key << "'");
  return v;
}

// --- pickles built byte by byte, wrapped in the legacy format (no zip needed) ---

std::string u32le(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[size_t(i)] = char(v >> (8 * i));
  return s;
}
std::string str(const std::string& s) { return "X" + u32le(uint32_t(s.size())) + s; }  // BINUNICODE
std::string int1(int v) { return std::string("K") + char(v); }                         // BININT1
std::string tuple_of(const std::vector<int>& v) {
  std::string s = "(";
  for (int x : v) s += int1(x);
  return s + "t";
}

// _rebuild_tensor_v2 of a `type` storage 'key' of `numel` elements with the given view; `pid_extra` lets a test
// append fields to the legacy persistent id (normally None).
std::string tensor_pickle(const std::string& type, int numel, int offset, const std::vector<int>& sizes,
                          const std::vector<int>& strides, const std::string& key = "0") {
  return "ctorch._utils\n_rebuild_tensor_v2\n((" + str("storage") + "ctorch\n" + type + "\n" + str(key) + str("cpu") +
         int1(numel) + "NtQ" + int1(offset) + tuple_of(sizes) + tuple_of(strides) + "\x89}tR";
}

// A legacy file: the magic number, protocol 1001, system info, `object` (a pickle body without PROTO/STOP), the
// storage keys, then `tail` (the storages).
std::vector<uint8_t> legacy_file(const std::string& object, const std::vector<std::string>& keys = {},
                                 const std::string& tail = "") {
  std::string f = std::string("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 15);
  f += std::string("\x80\x02M\xe9\x03.", 6);
  f += "\x80\x02}" + str("little_endian") + "\x88s.";
  f += "\x80\x02" + object + ".";
  f += "\x80\x02]";
  for (const std::string& k : keys) f += str(k) + "a";
  f += "." + tail;
  return std::vector<uint8_t>(f.begin(), f.end());
}

// One storage in the legacy tail: the 8-byte element count, then `floats` as f32.
std::string float_storage(const std::vector<float>& floats, uint64_t count) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[size_t(i)] = char(count >> (8 * i));
  s.append(reinterpret_cast<const char*>(floats.data()), floats.size() * 4);
  return s;
}

const char* const kMem = "mem.pth";

std::string parse_error(const std::vector<uint8_t>& bytes) {
  return error_of([&] { parse_torch_file(bytes.data(), bytes.size(), kMem); });
}

void expect_parse_error(const std::vector<uint8_t>& bytes, const std::string& problem) {
  std::string msg = parse_error(bytes);
  INFO("message: " << msg);
  CHECK(msg.find(kMem) != std::string::npos);
  CHECK(msg.find(problem) != std::string::npos);
}

}  // namespace

TEST_CASE("torch file: every fixture's state_dict holds exactly the values PyTorch wrote") {
  auto expected = read_expected();
  // Every fixture must be listed: a missing one would otherwise pass by checking nothing.
  for (const char* f : {"zip_dtypes.pth", "legacy_dtypes.pth", "checkpoint.pth.tar", "dataparallel_legacy.pth",
                        "model_zip64.pth"}) {
    CHECK_MESSAGE(expected.count(f) == 1, f);
  }
  size_t checked = 0;
  for (const auto& [file, tensors] : expected) {
    INFO("file " << file);
    auto sd = torch_state_dict(read_torch_file(kDir + file));
    REQUIRE(sd.size() == tensors.size());
    for (size_t i = 0; i < sd.size(); ++i) {
      const Expected& e = tensors[i];
      const auto& [name, t] = sd[i];
      INFO("tensor " << e.name);
      CHECK(name == e.name);  // in the file's order
      CHECK(t.device() == Device::CPU);
      CHECK(t.dtype() == dtype_named(e.dtype));
      REQUIRE(t.shape() == e.shape);
      REQUIRE(size_t(t.numel()) == e.values.size());
      for (int64_t k = 0; k < t.numel(); ++k) {
        double want = std::strtod(e.values[size_t(k)].c_str(), nullptr);  // hex floats are exact
        double got = element(t, k);
        INFO("element " << k << ": got " << got << ", expected " << e.values[size_t(k)]);
        CHECK((got == want && std::signbit(got) == std::signbit(want)));
        ++checked;
      }
    }
  }
  CHECK(checked > 400);
}

TEST_CASE("torch file: formats, version records and views saved as views") {
  TorchFile z = read_torch_file(kDir + "zip_dtypes.pth");
  CHECK(z.format == "zip");
  CHECK(z.archive == "zip_dtypes");
  CHECK(z.version == 3);
  TorchFile l = read_torch_file(kDir + "legacy_dtypes.pth");
  CHECK(l.format == "legacy");
  CHECK(l.version == 1001);
  for (const TorchFile* f : {&z, &l}) {
    INFO(f->source);
    const TorchValue* base = at(f->root, "base");
    const TorchValue* tr = at(f->root, "transposed");
    const TorchValue* slice = at(f->root, "slice");
    const TorchValue* expanded = at(f->root, "expanded");
    CHECK(tr->storage == base->storage);  // one storage in the file, three views of it
    CHECK(slice->storage == base->storage);
    CHECK(tr->strides == std::vector<int64_t>{1, 6});
    CHECK(slice->storage_offset == 8);
    CHECK(slice->strides == std::vector<int64_t>{6, 1});
    CHECK(expanded->strides == std::vector<int64_t>{0, 1});
    CHECK(expanded->storage->storage_ref.numel == 2);
    CHECK(at(f->root, "bool")->storage->storage_ref.is_bool);
  }
  TorchFile z64 = read_torch_file(kDir + "model_zip64.pth");  // every size and offset in zip64 records
  CHECK(z64.format == "zip");
  CHECK(z64.version == 3);
}

TEST_CASE("torch file: a training checkpoint's state_dict, optimizer and plain values") {
  TorchFile f = read_torch_file(kDir + "checkpoint.pth.tar");
  CHECK(at(f.root, "epoch")->kind == Kind::Int);
  CHECK(at(f.root, "epoch")->integer == 3);
  CHECK(at(f.root, "best_loss")->number == 0.125);
  CHECK(at(f.root, "arch")->text == "tiny");
  const TorchValue* model = at(f.root, "model");
  CHECK(model->ordered);
  REQUIRE(model->attributes != nullptr);  // the state_dict's '_metadata', pickled with BUILD
  CHECK(at(model->attributes, "_metadata")->kind == Kind::Dict);
  const TorchValue* groups = at(at(f.root, "optimizer"), "param_groups");
  REQUIRE(groups->kind == Kind::List);
  REQUIRE(groups->items.size() == 1);
  CHECK(at(groups->items[0], "lr")->number == 0.1);
  CHECK(at(groups->items[0], "nesterov")->kind == Kind::Bool);
  CHECK(at(groups->items[0], "foreach")->kind == Kind::None);
  const TorchValue* state = at(at(f.root, "optimizer"), "state");
  REQUIRE(state->entries.size() == 4);  // keyed by parameter index
  CHECK(state->entries[0].first->integer == 0);
  const Tensor& momentum = at(state->entries[0].second, "momentum_buffer")->tensor;
  CHECK(momentum.shape() == Shape{3, 2, 3, 3});

  SafetensorsContents c = torch_weights_contents(f);
  CHECK(c.metadata.at("state_dict_key") == "model");
  CHECK(c.metadata.at("torch_format") == "zip");
  CHECK(c.metadata.at("stripped_prefix") == "");
  CHECK(c.at("bn.num_batches_tracked").dtype() == DType::I64);
  CHECK(element(c.at("bn.num_batches_tracked"), 0) == 7);
  CHECK(c.at("conv.weight").shape() == Shape{3, 2, 3, 3});  // OIHW, as PyTorch stores it
  CHECK(model->get("conv.weight")->parameter == false);      // state_dict() holds detached tensors
}

TEST_CASE("torch file: a DataParallel legacy file loses its 'module.' prefix") {
  SafetensorsContents c = load_torch_weights(kDir + "dataparallel_legacy.pth");
  CHECK(c.metadata.at("stripped_prefix") == "module.");
  CHECK(c.metadata.at("state_dict_key") == "state_dict");
  CHECK(c.metadata.at("torch_format") == "legacy");
  CHECK(c.contains("conv.weight"));
  CHECK_FALSE(c.contains("module.conv.weight"));
  CHECK(c.source == kDir + "dataparallel_legacy.pth");
}

TEST_CASE("torch file: hostile and corrupt fixtures are rejected naming the file") {
  std::string msg = error_of([&] { read_torch_file(kDir + "evil_os_system.pth"); });
  CHECK(msg.find("refusing to load global 'os.system' from torch file '" + kDir + "evil_os_system.pth'") !=
        std::string::npos);
  CHECK(msg.find("only tensors and plain containers are allowed") != std::string::npos);
  expect_file_error(kDir + "memo_out_of_range.pth", "memo index 7 out of range");
  expect_file_error(kDir + "wrong_storage_size.pth", "holds 8 bytes, but its record declares 3 elements");
  expect_file_error(kDir + "truncated.pth", "truncated file?");
  expect_file_error(kDir + "expected.txt", "not a PyTorch file");
  expect_file_error(kDir + "no_such_file.pth", "cannot open");
  expect_file_error(kDir, "is a directory");
}

TEST_CASE("torch file: a pickle built by hand reads, and every kind of bad pickle is refused") {
  // A valid legacy file: a 2x2 transposed view of a 4-float storage.
  std::string body = "}" + str("w") + tensor_pickle("FloatStorage", 4, 0, {2, 2}, {1, 2}) + "s";
  auto good = legacy_file(body, {"0"}, float_storage({1, 2, 3, 4}, 4));
  auto sd = torch_state_dict(parse_torch_file(good.data(), good.size(), kMem));
  REQUIRE(sd.size() == 1);
  CHECK(sd[0].second.to_double_vector() == std::vector<double>{1, 3, 2, 4});

  // The view reaches past its storage.
  expect_parse_error(legacy_file("}" + str("w") + tensor_pickle("FloatStorage", 4, 1, {2, 2}, {2, 1}) + "s", {"0"},
                                 float_storage({1, 2, 3, 4}, 4)),
                     "reaches element 4 of storage '0', which holds 4 elements");
  // The storage holds fewer elements than its record declares, or is cut off.
  expect_parse_error(legacy_file(body, {"0"}, float_storage({1, 2, 3}, 3)), "has 3 elements in the file");
  expect_parse_error(legacy_file(body, {"0"}, float_storage({1, 2, 3}, 4)), "truncated file?");
  expect_parse_error(legacy_file(body, {}, ""), "missing from the storage key list");
  // Globals other than the allow-list, by GLOBAL and by STACK_GLOBAL (protocol 4).
  expect_parse_error(legacy_file("cbuiltins\neval\n" + str("1") + "\x85R"), "refusing to load global 'builtins.eval'");
  expect_parse_error(legacy_file("\x8c\x05posix\x8c\x06system\x93"), "refusing to load global 'posix.system'");
  expect_parse_error(legacy_file("ctorch\nCharStorage\n"), "'torch.CharStorage' is not supported");
  // Stack, memo and length errors.
  expect_parse_error(legacy_file("s"), "stack underflow");
  expect_parse_error(legacy_file("]" + str("x") + "(a"), "stack underflow");  // APPEND may not reach below a MARK
  expect_parse_error(legacy_file("j\xff\xff\xff\x7f"), "memo index 2147483647 out of range");
  expect_parse_error(legacy_file("X\xff\xff\xff\xff"), "truncated pickle?");
  expect_parse_error(legacy_file(std::string("\x8d\xff\xff\xff\xff\xff\xff\xff\x7f", 9)), "truncated pickle?");
  expect_parse_error(legacy_file(std::string("\x95\xff\xff\xff\xff\xff\xff\xff\x7f", 9)), "frame of");
  expect_parse_error(legacy_file("\x8f"), "pickle opcode 0x8f is not supported");
  expect_parse_error(legacy_file("}" + int1(1) + "a"), "APPEND(S) on a dict");
  // Tensor records that do not add up.
  expect_parse_error(
      legacy_file(tensor_pickle("FloatStorage", 4, 0, {2, 2}, {1}), {"0"}, float_storage({1, 2, 3, 4}, 4)),
      "2 sizes but 1 strides");
  std::string pid_without_storage = "ctorch._utils\n_rebuild_tensor_v2\n(" + str("x") + int1(0) + "))\x89}tR";
  expect_parse_error(legacy_file(pid_without_storage), "not a storage");
  expect_parse_error(legacy_file("(" + str("file") + "tQ"), "persistent id is not a");
  // Deep nesting builds no recursion: 200k nested lists, then a non-dict top level for the state_dict search.
  std::string deep = std::string(200000, ']') + std::string(199999, 'a');
  auto nested = legacy_file(deep);
  TorchFile nf = parse_torch_file(nested.data(), nested.size(), kMem);
  CHECK(nf.root->kind == Kind::List);
  std::string msg = error_of([&] { torch_state_dict(nf); });
  CHECK(msg.find("no state_dict: the file holds a list") != std::string::npos);
  // Bytes written by protocol 2 (_codecs.encode) are plain data.
  auto bytes = legacy_file("c_codecs\nencode\n" + str("\xc3\xbf") + str("latin1") + "\x86R");
  CHECK(parse_torch_file(bytes.data(), bytes.size(), kMem).root->text == "\xff");
}

TEST_CASE("torch file: the state_dict search explains what it found instead") {
  auto f = legacy_file("}" + str("epoch") + int1(3) + "s" + str("model") + "}" + str("x") + int1(1) + "ss");
  std::string msg = error_of([&] { torch_state_dict(parse_torch_file(f.data(), f.size(), kMem)); });
  INFO(msg);
  CHECK(msg.find(kMem) != std::string::npos);
  CHECK(msg.find("'model' maps 'x' to a int") != std::string::npos);
  CHECK(msg.find("'epoch' (int)") != std::string::npos);
}

TEST_CASE("torch file: truncated and mutated fixtures fail only with mtinet::Error") {
  std::mt19937 rng(20240611);
  size_t rejected = 0, runs = 0;
  for (const char* name : {"zip_dtypes.pth", "legacy_dtypes.pth", "checkpoint.pth.tar", "model_zip64.pth"}) {
    const std::vector<uint8_t> original = file_bytes(kDir + name);
    auto attempt = [&](const std::vector<uint8_t>& bytes, const std::string& what) {
      ++runs;
      try {
        TorchFile f = parse_torch_file(bytes.data(), bytes.size(), kMem);
        torch_state_dict(f);
      } catch (const Error& e) {
        ++rejected;
        if (std::string(e.what()).find(kMem) == std::string::npos) FAIL_CHECK(what << ": " << e.what());
      } catch (const std::exception& e) {
        FAIL_CHECK(what << ": threw something other than mtinet::Error: " << e.what());
      }
    };
    for (size_t n = 0; n < original.size(); n += 7) {
      attempt(std::vector<uint8_t>(original.begin(), original.begin() + ptrdiff_t(n)),
              std::string(name) + " cut to " + std::to_string(n));
    }
    for (int i = 0; i < 1500; ++i) {
      std::vector<uint8_t> m = original;
      for (int k = 0, n = 1 + int(rng() % 4); k < n; ++k) m[rng() % m.size()] = uint8_t(rng());
      attempt(m, std::string(name) + " mutation " + std::to_string(i));
    }
  }
  CHECK(runs > 6000);
  CHECK(rejected > runs / 2);  // the CRC catches most zip mutations; truncations always fail
}
