// concat_channels and slice_channels: values, f64 gradient checks, PyTorch goldens (torch.cat dim=1 and channel
// slicing of NCHW tensors) and errors naming the offending tensor; interleave_channels (made of them). CUDA against
// CPU: tests/test_cuda_parity_channels.cpp.
#include "core/ops.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::test;

namespace {
Tensor concat_of(const std::vector<Tensor>& in) { return ops::concat_channels(in); }

// A fixture tensor converted to NHWC in the requested dtype.
Tensor nhwc(const SafetensorsContents& f, const std::string& key, DType dtype) {
  return nchw_to_nhwc(f.at(key)).to(dtype);
}

// check_close with this atol and rtol 0 demands equality (a zero atol would divide 0 by 0).
constexpr double kExact = 1e-300;

double tol_atol(DType d) { return d == DType::F64 ? 1e-10 : 1e-5; }
double tol_rtol(DType d) { return d == DType::F64 ? 1e-9 : 1e-4; }
}  // namespace

TEST_CASE("concat_channels places each input's channels after the previous ones") {
  Tensor a = Tensor::from_vector<double>({1, 1, 2, 2}, {1, 2, 3, 4});
  Tensor b = Tensor::from_vector<double>({1, 1, 2, 1}, {10, 20});
  Tensor c = Tensor::from_vector<double>({1, 1, 2, 3}, {100, 200, 300, 400, 500, 600});
  Tensor y = ops::concat_channels({a, b, c});
  CHECK(y.shape() == Shape{1, 1, 2, 6});
  CHECK(y.to_double_vector() == std::vector<double>{1, 2, 10, 100, 200, 300, 3, 4, 20, 400, 500, 600});
}

TEST_CASE("slice_channels keeps the channels from begin up to end of every pixel") {
  Tensor x = Tensor::from_vector<double>({1, 2, 1, 4}, {0, 1, 2, 3, 4, 5, 6, 7});
  Tensor y = ops::slice_channels(x, 1, 3);
  CHECK(y.shape() == Shape{1, 2, 1, 2});
  CHECK(y.to_double_vector() == std::vector<double>{1, 2, 5, 6});
}

TEST_CASE("concat_channels gradient check for 1, 2 and 3 inputs of different widths") {
  Rng rng(21);
  Tensor a = random_tensor({2, 3, 5, 3}, rng).set_requires_grad(true);
  Tensor b = random_tensor({2, 3, 5, 1}, rng).set_requires_grad(true);
  Tensor c = random_tensor({2, 3, 5, 4}, rng).set_requires_grad(true);
  gradcheck(concat_of, {a});
  gradcheck(concat_of, {a, b});
  gradcheck(concat_of, {a, b, c});
  gradcheck(concat_of, {c, a, b});
}

TEST_CASE("concat_channels gives gradients only to inputs that require them, and accepts one input twice") {
  Rng rng(22);
  Tensor a = random_tensor({1, 2, 3, 2}, rng).set_requires_grad(true);
  Tensor frozen = random_tensor({1, 2, 3, 3}, rng);
  gradcheck(concat_of, {a, frozen});
  CHECK_FALSE(frozen.grad().defined());
  // The same tensor twice: its gradient is the sum of both channel blocks.
  a.impl().grad.reset();
  Tensor y = ops::concat_channels({a, a});
  Tensor gy = random_tensor(y.shape(), rng);
  y.backward(gy);
  Tensor expected = ops::add(ops::slice_channels(gy, 0, 2), ops::slice_channels(gy, 2, 4));
  check_close(a.grad(), expected, kExact, 0, "gradient of a tensor used twice");
}

TEST_CASE("slice_channels gradient check at the start, middle and end") {
  Rng rng(23);
  Tensor x = random_tensor({2, 3, 2, 7}, rng).set_requires_grad(true);
  for (auto [b, e] : std::vector<std::pair<int64_t, int64_t>>{{0, 3}, {2, 5}, {4, 7}, {0, 7}, {6, 7}}) {
    INFO("slice [" << b << ", " << e << ")");
    x.impl().grad.reset();
    gradcheck([b = b, e = e](const std::vector<Tensor>& in) { return ops::slice_channels(in[0], b, e); }, {x});
  }
}

TEST_CASE("concat_channels and slice_channels match PyTorch (f64 and f32)") {
  SafetensorsContents f = load_fixture("channels.safetensors");
  for (DType dt : {DType::F64, DType::F32}) {
    INFO("dtype " << std::string(dtype_name(dt)));
    for (auto [name, count] : std::vector<std::pair<std::string, int>>{{"concat1", 1}, {"concat2", 2}, {"concat3", 3}}) {
      std::vector<Tensor> xs;
      for (int k = 0; k < count; ++k)
        xs.push_back(nhwc(f, name + "/x" + std::to_string(k), dt).set_requires_grad(true));
      Tensor y = ops::concat_channels(xs);
      check_close(y, nhwc(f, name + "/y", dt), tol_atol(dt), tol_rtol(dt), name + " forward");
      y.backward(nhwc(f, name + "/gy", dt));
      for (int k = 0; k < count; ++k)
        check_close(xs[size_t(k)].grad(), nhwc(f, name + "/gx" + std::to_string(k), dt), tol_atol(dt), tol_rtol(dt),
                    name + " gradient " + std::to_string(k));
    }
    struct SliceCase { std::string name; int64_t begin, end; };
    for (const SliceCase& s : {SliceCase{"slice_start", 0, 3}, SliceCase{"slice_middle", 2, 5},
                               SliceCase{"slice_end", 4, 7}}) {
      Tensor x = nhwc(f, s.name + "/x", dt).set_requires_grad(true);
      Tensor y = ops::slice_channels(x, s.begin, s.end);
      check_close(y, nhwc(f, s.name + "/y", dt), tol_atol(dt), tol_rtol(dt), s.name + " forward");
      y.backward(nhwc(f, s.name + "/gy", dt));
      check_close(x.grad(), nhwc(f, s.name + "/gx", dt), tol_atol(dt), tol_rtol(dt), s.name + " gradient");
    }
  }
}

TEST_CASE("concat_channels rejects inputs that differ in N, H or W, naming the tensor") {
  Tensor a = Tensor::zeros({2, 3, 4, 5}).set_name("a");
  Tensor other_n = Tensor::zeros({1, 3, 4, 2}).set_name("other_n");
  Tensor other_h = Tensor::zeros({2, 2, 4, 2}).set_name("other_h");
  Tensor other_w = Tensor::zeros({2, 3, 5, 2}).set_name("other_w");
  Tensor other_rank = Tensor::zeros({2, 3, 4}).set_name("other_rank");
  CHECK_THROWS_WITH_AS(ops::concat_channels({a, other_n}), doctest::Contains("input 1 'other_n' f32 cpu [1, 3, 4, 2]"),
                       Error);
  CHECK_THROWS_WITH_AS(ops::concat_channels({a, other_h}), doctest::Contains("'other_h'"), Error);
  CHECK_THROWS_WITH_AS(ops::concat_channels({a, a, other_w}), doctest::Contains("input 2 'other_w'"), Error);
  CHECK_THROWS_WITH_AS(ops::concat_channels({a, other_rank}), doctest::Contains("'other_rank'"), Error);
  CHECK_THROWS_WITH_AS(ops::concat_channels({a, Tensor::zeros({2, 3, 4, 1}, DType::F64).set_name("f64")}),
                       doctest::Contains("dtype of input 1 'f64'"), Error);
  CHECK_THROWS_WITH_AS(ops::concat_channels({}), doctest::Contains("at least one input"), Error);
}

TEST_CASE("slice_channels rejects empty or out-of-range channel ranges, naming the tensor") {
  Tensor x = Tensor::zeros({1, 2, 2, 4}).set_name("feat");
  CHECK_THROWS_WITH_AS(ops::slice_channels(x, 2, 5), doctest::Contains("'feat' f32 cpu [1, 2, 2, 4]"), Error);
  CHECK_THROWS_WITH_AS(ops::slice_channels(x, -1, 2), doctest::Contains("[-1, 2)"), Error);
  CHECK_THROWS_WITH_AS(ops::slice_channels(x, 3, 3), doctest::Contains("'feat'"), Error);
  CHECK_THROWS_WITH_AS(ops::slice_channels(x, 3, 1), doctest::Contains("'feat'"), Error);
}

TEST_CASE("interleave_channels reorders groups-major to members-major and back") {
  Tensor x = Tensor::from_vector<double>({1, 1, 1, 6}, {0, 1, 2, 3, 4, 5});
  Tensor y = ops::interleave_channels(x, 2, 3);  // 2 tasks x 3 channels -> channel-major
  CHECK(y.to_double_vector() == std::vector<double>{0, 3, 1, 4, 2, 5});
  CHECK(ops::interleave_channels(y, 3, 2).to_double_vector() == x.to_double_vector());
  CHECK_THROWS_WITH_AS(ops::interleave_channels(x, 4, 2), doctest::Contains("4 x 2"), Error);
}
