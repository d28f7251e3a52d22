// Writing .pth files (core/torch_write.h): every dtype read back bit for bit by our reader, views and torch's own
// strided tensors re-exported by value, the zip's CRC-32s checked against zlib's and its data entries 64-byte
// aligned as torch writes them, and what cannot be written refused naming the tensor. That stock PyTorch loads
// the files is checked by tests/torch_interop.py (ctest, when python3 with torch is present).
#include <zlib.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <sstream>

#include "core/torch_file.h"
#include "core/torch_write.h"
#include "core/torch_zip.h"
#include "scratch.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::test;

namespace {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

std::string written(const NamedTensors& tensors, const TorchSaveOptions& options = {}) {
  std::ostringstream out;
  write_torch_state_dict(out, tensors, options, "mem.pth");
  return out.str();
}

TorchFile reread(const std::string& bytes) {
  return parse_torch_file(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "mem.pth");
}

template <class T>
Tensor raw_tensor(DType dt, const Shape& shape, const std::vector<T>& bits) {
  Tensor t = Tensor::empty(shape, dt);
  REQUIRE(bits.size() * sizeof(T) == t.nbytes());
  if (!bits.empty()) std::memcpy(t.raw_data(), bits.data(), t.nbytes());
  return t;
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         (a.nbytes() == 0 || std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0);
}

// A tensor of every dtype with its awkward values: signed zero, subnormals, extremes, NaN, infinities.
NamedTensors every_dtype() {
  const double inf = std::numeric_limits<double>::infinity();
  return {
      {"f32", Tensor::from_vector<float>({2, 3}, {0.5f, -1.75f, 3.4e38f, 1.4e-45f, -0.0f, float(NAN)})},
      {"f64", Tensor::from_vector<double>({4}, {1.0 / 3, -1e-300, inf, -inf})},
      {"f16", raw_tensor<uint16_t>(DType::F16, {2, 2}, {0x3c00, 0xc100, 0x7bff, 0x0001})},
      {"bf16", raw_tensor<uint16_t>(DType::BF16, {1, 3}, {0x3f80, 0xc049, 0x0001})},
      {"i64", Tensor::from_vector<int64_t>({3}, {-4611686018427387904LL, 7, 1099511627779LL})},
      {"i32", Tensor::from_vector<int32_t>({1, 3}, {-5, 2147483647, -2147483647 - 1})},
      {"u8", Tensor::from_vector<uint8_t>({6}, {0, 51, 102, 153, 204, 255})},
      {"bool", Tensor::from_vector<uint8_t>({2, 3}, {1, 0, 1, 0, 0, 1})},
      {"scalar", Tensor::from_vector<int64_t>({}, {42})},
      {"empty", Tensor::empty({2, 0, 3}, DType::F32)},
      {"big", Tensor::full({70000}, 2.5, DType::F32)},  // numel past BININT2: written as a 4-byte int
  };
}

}  // namespace

TEST_CASE("torch writer: every dtype reads back bit for bit, with torch's storage types and contiguous strides") {
  NamedTensors tensors = every_dtype();
  TorchSaveOptions options;
  options.bool_tensors = {"bool"};
  TorchFile f = reread(written(tensors, options));
  CHECK(f.format == "zip");
  CHECK(f.archive == "archive");
  CHECK(f.version == 3);
  REQUIRE(f.root->kind == TorchValue::Kind::Dict);
  CHECK(f.root->ordered);
  REQUIRE(f.root->entries.size() == tensors.size());
  const std::map<std::string, std::string> storage_types = {
      {"f32", "FloatStorage"}, {"f64", "DoubleStorage"}, {"f16", "HalfStorage"}, {"bf16", "BFloat16Storage"},
      {"i64", "LongStorage"},  {"i32", "IntStorage"},    {"u8", "ByteStorage"},  {"bool", "BoolStorage"},
      {"scalar", "LongStorage"}, {"empty", "FloatStorage"}, {"big", "FloatStorage"}};
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& [name, want] = tensors[i];
    const auto& [key, value] = f.root->entries[i];
    INFO("tensor " << name);
    CHECK(key->text == name);  // in the given order
    REQUIRE(value->kind == TorchValue::Kind::Tensor);
    CHECK(same_bytes(value->tensor, want));
    CHECK(value->storage->storage_ref.type == storage_types.at(name));
    CHECK(value->storage->storage_ref.is_bool == (name == "bool"));
    CHECK(value->storage->storage_ref.numel == want.numel());
    CHECK(value->storage_offset == 0);
    CHECK(value->sizes == want.shape());
    CHECK_FALSE(value->requires_grad);
  }
  const TorchValue* empty = f.root->get("empty");
  CHECK(empty->strides == std::vector<int64_t>{3, 3, 1});  // torch's strides for [2, 0, 3]
  CHECK(f.root->get("f32")->strides == std::vector<int64_t>{3, 1});
  CHECK(f.root->get("scalar")->strides.empty());
}

TEST_CASE("torch writer: the zip holds torch's records, 64-byte aligned, with CRC-32s that match zlib's") {
  std::string bytes = written(every_dtype());
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  torch_detail::ZipArchive zip(data, bytes.size(), "mem.pth");
  std::vector<std::string> names;
  for (const auto& [name, e] : zip.entries()) names.push_back(name);
  CHECK(names.size() == 3 + every_dtype().size());
  CHECK(zip.entries().begin()->first == "archive/byteorder");
  REQUIRE(zip.find("archive/byteorder"));
  CHECK(std::string(reinterpret_cast<const char*>(zip.bytes(*zip.find("archive/byteorder"))), 6) == "little");
  REQUIRE(zip.find("archive/version"));
  CHECK(std::string(reinterpret_cast<const char*>(zip.bytes(*zip.find("archive/version"))), 2) == "3\n");
  // data.pkl must be entry 0: torch names the archive folder after the first entry.
  CHECK(bytes.compare(30, 16, "archive/data.pkl") == 0);
  for (const auto& [name, e] : zip.entries()) {
    INFO("entry " << name);
    CHECK(e.data_offset % 64 == 0);
    CHECK(e.crc32 == uint32_t(::crc32(0L, data + e.data_offset, uInt(e.size))));
  }
  // A flipped bit in a weight is caught by the CRC.
  const torch_detail::ZipEntry* f32 = zip.find("archive/data/0");
  REQUIRE(f32);
  std::string corrupt = bytes;
  corrupt[size_t(f32->data_offset) + 1] ^= 0x10;
  CHECK_THROWS_WITH_AS(reread(corrupt), doctest::Contains("'archive/data/0' is corrupt: CRC-32"), Error);
  // Equal inputs give equal files (no timestamps).
  CHECK(written(every_dtype()) == bytes);
}

TEST_CASE("torch writer: views write only their elements, and torch's strided tensors re-export by value") {
  // A view into a larger buffer, as Module's parameters into the flat parameter buffer: only the view is written.
  Rng rng(3);
  Tensor base = random_tensor({4, 6}, rng, -2, 2, DType::F32);
  Tensor rows = Tensor::view_of(base, 6, {2, 6});
  Tensor last = base.slice_batch(3, 4);
  TorchFile f = reread(written({{"rows", rows}, {"last", last}}));
  const TorchValue* r = f.root->get("rows");
  REQUIRE(r);
  CHECK(r->storage->storage_ref.numel == 12);
  CHECK(r->tensor.to_double_vector() == rows.to_double_vector());
  std::vector<double> all = base.to_double_vector();
  CHECK(r->tensor.to_double_vector() == std::vector<double>(all.begin() + 6, all.begin() + 18));
  CHECK(f.root->get("last")->tensor.to_double_vector() == std::vector<double>(all.begin() + 18, all.end()));

  // Transposed, sliced, strided and expanded views written by PyTorch come back with the values it saved.
  for (const char* fixture : {"torch/zip_dtypes.pth", "torch/legacy_dtypes.pth"}) {
    CAPTURE(fixture);
    NamedTensors original = torch_state_dict(read_torch_file(fixture_path(fixture)));
    REQUIRE(original.size() >= 10);
    TorchSaveOptions options;
    options.bool_tensors = {"bool"};
    NamedTensors again = torch_state_dict(reread(written(original, options)));
    REQUIRE(again.size() == original.size());
    for (size_t i = 0; i < original.size(); ++i) {
      INFO("tensor " << original[i].first);
      CHECK(again[i].first == original[i].first);
      CHECK(same_bytes(again[i].second, original[i].second));
    }
  }
}

TEST_CASE("torch writer: what cannot be written is refused naming the tensor, and nothing is left behind") {
  Tensor two = Tensor::from_vector<uint8_t>({2}, {0, 2});
  Tensor f = Tensor::from_vector<float>({1}, {1.0f});
  auto error = [](const NamedTensors& t, const TorchSaveOptions& o = {}) {
    try {
      written(t, o);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("<no error>");
  };
  TorchSaveOptions as_bool;
  as_bool.bool_tensors = {"mask"};
  CHECK(error({{"mask", two}}, as_bool).find("tensor 'mask' is to be written as bool but element 1 is 2") !=
        std::string::npos);
  CHECK(error({{"mask", f}}, as_bool).find("'mask' is to be written as bool but is f32") != std::string::npos);
  CHECK(error({{"other", two}}, as_bool).find("bool tensor 'mask' is not among") != std::string::npos);
  CHECK(error({{"w", f}, {"w", f}}).find("two tensors are named 'w'") != std::string::npos);
  CHECK(error({{"", f}}).find("tensor 0 has an empty name") != std::string::npos);
  CHECK(error({{"w", f}}).find("<no error>") != std::string::npos);
  CHECK(error({{"w", f}, {"w", f}}).find("writing torch file 'mem.pth'") != std::string::npos);

  std::string path = fresh_dir("mtinet_torch_write_refused") + "/model.pth";
  CHECK_THROWS_WITH_AS(save_torch_state_dict(path, {{"w", f}, {"w", f}}), doctest::Contains(path.c_str()), Error);
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
  save_torch_state_dict(path, {{"w", f}});
  CHECK(load_torch_weights(path).at("w").to_double_vector() == std::vector<double>{1.0});
}
