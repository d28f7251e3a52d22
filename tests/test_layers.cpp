// The module system: state_dict order and layouts, train/eval propagation, BatchNorm2d bookkeeping, dtype
// conversion, strict and non-strict loading, and a safetensors save/load round trip.
#include <cstdio>
#include <set>

#include "layers/attention.h"
#include "layers/blocks.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::test;

namespace {

// A child registered before the module's own tensors, to show that state_dict still lists own parameters, then
// own buffers, then children (PyTorch's order), each group in registration order.
class Toy : public Module {
 public:
  explicit Toy(Rng& rng) {
    conv = register_module("conv", std::make_shared<Conv2d>(Conv2dSpec{2, 3, 3, 1, 1, 1, true}, rng));
    bn = register_module("bn", std::make_shared<BatchNorm2d>(3));
    Tensor w = Tensor::empty({4});
    fill_uniform(w, rng, -1, 1);
    scale = register_parameter("scale", w);
    offset = register_parameter("offset", Tensor::zeros({2, 2}));
    count = register_buffer("count", Tensor::full({3}, 5.0));
  }
  std::shared_ptr<Conv2d> conv;
  std::shared_ptr<BatchNorm2d> bn;
  Tensor scale, offset, count;
};

std::vector<std::string> names(const Module& m) {
  std::vector<std::string> out;
  for (const auto& e : m.state_entries()) out.push_back(e.name);
  return out;
}

std::string temp_path(const std::string& name) { return "/tmp/mtinet_test_layers_" + name + ".safetensors"; }

}  // namespace

TEST_CASE("state_dict order is own parameters then own buffers then children in registration order") {
  Rng rng(0);
  Toy toy(rng);
  CHECK(names(toy) == std::vector<std::string>{"scale", "offset", "count", "conv.weight", "conv.bias", "bn.weight",
                                               "bn.bias", "bn.running_mean", "bn.running_var",
                                               "bn.num_batches_tracked"});
  CHECK(toy.parameter_count() == 4 + 4 + 3 * 3 * 3 * 2 + 3 + 3 + 3);
  CHECK(toy.parameters().size() == 6);
  for (const Tensor& p : toy.parameters()) CHECK(p.requires_grad());
}

TEST_CASE("state_dict exports conv weights as OIHW with the same values") {
  Rng rng(1);
  Toy toy(rng);
  auto sd = toy.state_dict();
  const Tensor& w = sd[3].second;
  REQUIRE(sd[3].first == "conv.weight");
  CHECK(w.shape() == Shape{3, 2, 3, 3});
  CHECK(toy.conv->weight().shape() == Shape{3, 3, 3, 2});
  const float* ohwi = toy.conv->weight().data<float>();
  const float* oihw = w.data<float>();
  for (int o = 0; o < 3; ++o)
    for (int i = 0; i < 2; ++i)
      for (int kh = 0; kh < 3; ++kh)
        for (int kw = 0; kw < 3; ++kw)
          CHECK(oihw[((o * 2 + i) * 3 + kh) * 3 + kw] == ohwi[((o * 3 + kh) * 3 + kw) * 2 + i]);
  // The export is a copy: changing it leaves the model alone.
  w.data<float>()[0] += 1;
  CHECK(toy.state_dict()[3].second.data<float>()[0] == ohwi[0]);
  CHECK(sd.back().second.dtype() == DType::I64);
  CHECK(sd.back().second.shape().empty());
}

TEST_CASE("train/eval propagate to every descendant") {
  Rng rng(2);
  Sequential outer;
  auto inner = std::make_shared<Sequential>();
  auto bn = std::make_shared<BatchNorm2d>(4);
  inner->push_back(bn);
  outer.push_back(std::make_shared<Conv2d>(Conv2dSpec{4, 4, 1}, rng));
  outer.push_back(inner);
  auto block = std::make_shared<BasicBlock>(4, 8, rng);
  outer.push_back(block);
  CHECK(bn->is_training());
  outer.eval();
  CHECK_FALSE(outer.is_training());
  CHECK_FALSE(inner->is_training());
  CHECK_FALSE(bn->is_training());
  CHECK_FALSE(block->is_training());
  outer.train();
  CHECK(bn->is_training());
  CHECK(block->is_training());
  CHECK(names(outer).back() == "2.downsample.1.num_batches_tracked");
}

TEST_CASE("BatchNorm2d counts training batches only and updates running stats with its momentum") {
  BatchNorm2d bn(2, 0.01);
  Tensor x = Tensor::from_vector<double>({2, 1, 2, 2}, {1, 10, 3, 20, 5, 30, 7, 40});
  bn.to(DType::F64);
  CHECK(bn.batches_tracked() == 0);
  bn.forward(x);
  bn.forward(x);
  CHECK(bn.batches_tracked() == 2);
  // Channel 0 values 1,3,5,7: mean 4, unbiased var 20/3. After two updates: 1-(0.99)^2 of the way from 0 / 1.
  auto sd = bn.state_dict();
  double frac = 1 - 0.99 * 0.99;
  CHECK(sd[2].second.to_double_vector()[0] == doctest::Approx(4 * frac).epsilon(1e-12));
  CHECK(sd[3].second.to_double_vector()[0] == doctest::Approx(1 + (20.0 / 3 - 1) * frac).epsilon(1e-12));
  bn.eval();
  bn.forward(x);
  CHECK(bn.batches_tracked() == 2);
  CHECK_THROWS_AS(bn.forward(Tensor::zeros({1, 2, 2, 3}, DType::F64)), Error);  // wrong channel count
  bn.train();
  CHECK_THROWS_AS(bn.forward(Tensor::zeros({1, 2, 2, 3}, DType::F64)), Error);
  CHECK(bn.batches_tracked() == 2);  // a rejected batch is not counted
}

TEST_CASE("Module::to(DType) converts parameters and floating buffers in place and handles follow") {
  Rng rng(3);
  Toy toy(rng);
  std::vector<double> before = toy.conv->weight().to_double_vector();
  Tensor handle = toy.scale;
  toy.to(DType::F64);
  CHECK(toy.conv->weight().dtype() == DType::F64);
  CHECK(toy.conv->weight().to_double_vector() == before);
  CHECK(handle.dtype() == DType::F64);
  CHECK(toy.count.dtype() == DType::F64);
  for (const Tensor& p : toy.parameters()) {
    CHECK(p.dtype() == DType::F64);
    CHECK(p.requires_grad());
  }
  CHECK(toy.state_dict().back().second.dtype() == DType::I64);  // num_batches_tracked stays an integer
  toy.to(DType::F32);
  CHECK(toy.scale.dtype() == DType::F32);
}

TEST_CASE("non-strict load reports missing and unexpected and mis-shaped keys and strict load throws naming them") {
  Rng rng(4);
  Toy toy(rng);
  SafetensorsContents file;
  file.source = "handmade";
  file.tensors.emplace_back("scale", Tensor::from_vector<double>({4}, {1, 2, 3, 4}));  // F64 into F32: converted
  file.tensors.emplace_back("offset", Tensor::zeros({3, 2}));                         // wrong shape
  file.tensors.emplace_back("conv.weight", Tensor::full({3, 2, 3, 3}, 0.5));          // OIHW
  file.tensors.emplace_back("decoder.bias", Tensor::zeros({3}));                      // not in the model
  std::vector<double> scale_before = toy.scale.to_double_vector();

  try {
    toy.load_state_dict(file, true);
    FAIL("strict load did not throw");
  } catch (const Error& e) {
    std::string msg = e.what();
    CHECK(msg.find("handmade") != std::string::npos);
    CHECK(msg.find("conv.bias") != std::string::npos);     // missing
    CHECK(msg.find("decoder.bias") != std::string::npos);  // unexpected
    CHECK(msg.find("offset") != std::string::npos);        // mis-shaped
  }
  CHECK(toy.scale.to_double_vector() == scale_before);  // strict failure changes nothing

  LoadReport r = toy.load_state_dict(file, false);
  CHECK(r.loaded == std::vector<std::string>{"scale", "conv.weight"});
  CHECK(r.unexpected == std::vector<std::string>{"decoder.bias"});
  REQUIRE(r.mismatched.size() == 1);
  CHECK(r.mismatched[0].rfind("offset:", 0) == 0);
  CHECK(r.mismatched[0].find("[3, 2]") != std::string::npos);
  CHECK(r.missing == std::vector<std::string>{"count", "conv.bias", "bn.weight", "bn.bias", "bn.running_mean",
                                              "bn.running_var", "bn.num_batches_tracked"});
  CHECK(toy.scale.dtype() == DType::F32);
  CHECK(toy.scale.to_double_vector() == std::vector<double>{1, 2, 3, 4});
  for (double v : toy.conv->weight().to_double_vector()) CHECK(v == 0.5);
  CHECK(r.summary().find("1 unexpected") != std::string::npos);
}

TEST_CASE("save then strict load reproduces every entry and converts layouts both ways") {
  Rng rng_a(5), rng_b(6);
  Toy a(rng_a), b(rng_b);
  a.count.data<float>()[1] = 42;
  const std::string path = temp_path("roundtrip");
  a.save(path, {{"format", "pt"}});
  SafetensorsContents file = load_safetensors(path);
  CHECK(file.metadata.at("format") == "pt");
  CHECK(file.at("conv.weight").shape() == Shape{3, 2, 3, 3});
  b.load_state_dict(file, true);
  auto sa = a.state_dict(), sb = b.state_dict();
  REQUIRE(sa.size() == sb.size());
  for (size_t i = 0; i < sa.size(); ++i) {
    CAPTURE(sa[i].first);
    CHECK(sa[i].first == sb[i].first);
    CHECK(sa[i].second.to_double_vector() == sb[i].second.to_double_vector());
  }
  CHECK(b.conv->weight().to_double_vector() == a.conv->weight().to_double_vector());
  // An f64 model loads the f32 file, converting.
  Rng rng_c(7);
  Toy c(rng_c);
  c.to(DType::F64);
  c.load_state_dict(file, true);
  CHECK(c.scale.dtype() == DType::F64);
  CHECK(c.scale.to_double_vector() == a.scale.to_double_vector());
  std::remove(path.c_str());
}

TEST_CASE("SE and SA blocks expose the reference's child names") {
  Rng rng(8);
  SEBlock se(32, rng);
  CHECK(names(se) == std::vector<std::string>{"squeeze.0.weight", "squeeze.0.bias", "squeeze.2.weight",
                                              "squeeze.2.bias"});
  CHECK(se.state_dict()[0].second.shape() == Shape{2, 32});
  SABlock sa(4, 4, rng);
  CHECK(names(sa) == std::vector<std::string>{"attention.0.weight", "conv.weight"});
  CHECK_THROWS_AS(SEBlock(8, rng), Error);  // 8 / 16 leaves no hidden unit
}
