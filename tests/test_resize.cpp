// resize_bilinear and resize_bilinear_scale (align_corners=False): hand values, the gather ranges against brute
// force, f64 gradient checks, the adjoint identity on larger sizes, PyTorch goldens (F.interpolate by size= and by
// scale_factor=) and errors. CUDA against CPU: tests/test_cuda_parity_channels.cpp.
#include "core/ops.h"
#include "kernels/resize_bilinear/resize_bilinear_math.h"
#include "test_util.h"

using namespace mtinet;
using namespace mtinet::test;

namespace {
Tensor nhwc(const SafetensorsContents& f, const std::string& key, DType dtype) {
  return nchw_to_nhwc(f.at(key)).to(dtype);
}

double dot(const Tensor& a, const Tensor& b) {
  std::vector<double> av = a.to_double_vector(), bv = b.to_double_vector();
  double s = 0;
  for (size_t i = 0; i < av.size(); ++i) s += av[i] * bv[i];
  return s;
}

// Every output index whose taps read source index i, by brute force, must be exactly outputs_reading(i).
template <class T>
void check_ranges(int64_t in, int64_t out, double factor) {
  T scale = kernels::resize_source_scale<T>(in, out, factor);
  for (int64_t i = 0; i < in; ++i) {
    kernels::OutputRange r = kernels::outputs_reading(i, scale, in, out);
    for (int64_t o = 0; o < out; ++o) {
      kernels::LinearTap<T> t = kernels::linear_tap(o, scale, in);
      bool reads = t.i0 == i || t.i1 == i;
      bool in_range = o >= r.begin && o < r.end;
      if (reads != in_range) {
        FAIL_CHECK("in " << in << " out " << out << " factor " << factor << ": output " << o << " source " << i
                         << " reads=" << reads << " range [" << r.begin << ", " << r.end << ")");
        return;
      }
    }
  }
}
}  // namespace

TEST_CASE("resize_bilinear hand-computed values, upsampling and downsampling") {
  // 2 -> 4: sources clamp(0.5*(d+0.5)-0.5) = 0, 0.25, 0.75, 1.25 (the last reads x[1] twice).
  Tensor x = Tensor::from_vector<double>({1, 1, 2, 1}, {0, 1});
  CHECK(ops::resize_bilinear(x, 1, 4).to_double_vector() == std::vector<double>{0, 0.25, 0.75, 1});
  // 4 -> 2: sources 2*(d+0.5)-0.5 = 0.5, 2.5: the average of each pair.
  Tensor z = Tensor::from_vector<double>({1, 4, 1, 1}, {1, 3, 10, 20});
  CHECK(ops::resize_bilinear(z, 2, 1).to_double_vector() == std::vector<double>{2, 15});
  // Equal sizes are the identity.
  Rng rng(30);
  Tensor r = random_tensor({2, 3, 5, 2}, rng);
  CHECK(ops::resize_bilinear(r, 3, 5).to_double_vector() == r.to_double_vector());
}

TEST_CASE("gather ranges of the backward agree with the forward taps") {
  for (int64_t in = 1; in <= 20; ++in) {
    for (int64_t out = 1; out <= 45; ++out) {
      check_ranges<float>(in, out, 0.0);
      check_ranges<double>(in, out, 0.0);
    }
    for (double factor : {0.25, 0.5, 0.7, 1.3, 1.7, 2.0, 3.0, 4.0, 8.0}) {
      int64_t out = int64_t(std::floor(double(in) * factor));
      if (out < 1) continue;
      check_ranges<float>(in, out, factor);
      check_ranges<double>(in, out, factor);
    }
  }
  check_ranges<float>(480, 60, 0.0);
  check_ranges<float>(60, 480, 0.0);
  check_ranges<float>(119, 480, 0.0);
  check_ranges<float>(1000, 3, 0.0);
}

TEST_CASE("resize_bilinear gradient check by output size") {
  Rng rng(31);
  struct Case { Shape in; int64_t oh, ow; };
  for (const Case& c : {Case{{1, 4, 5, 2}, 8, 10}, Case{{1, 3, 2, 2}, 12, 8}, Case{{2, 8, 6, 1}, 4, 3},
                        Case{{1, 5, 7, 2}, 8, 11}, Case{{1, 9, 13, 1}, 4, 6}, Case{{1, 3, 1, 2}, 7, 2},
                        Case{{1, 1, 1, 1}, 3, 2}}) {
    INFO("input " << shape_str(c.in) << " -> " << c.oh << "x" << c.ow);
    Tensor x = random_tensor(c.in, rng).set_requires_grad(true);
    gradcheck([&c](const std::vector<Tensor>& in) { return ops::resize_bilinear(in[0], c.oh, c.ow); }, {x});
  }
}

TEST_CASE("resize_bilinear_scale gradient check by scale factor") {
  Rng rng(32);
  struct Case { Shape in; double sh, sw; };
  for (const Case& c : {Case{{1, 3, 5, 2}, 2.0, 2.0}, Case{{1, 9, 7, 1}, 0.5, 0.5}, Case{{2, 5, 7, 1}, 1.7, 1.7},
                        Case{{1, 5, 9, 2}, 1.7, 0.5}}) {
    INFO("input " << shape_str(c.in) << " scale " << c.sh << "x" << c.sw);
    Tensor x = random_tensor(c.in, rng).set_requires_grad(true);
    gradcheck([&c](const std::vector<Tensor>& in) { return ops::resize_bilinear_scale(in[0], c.sh, c.sw); }, {x});
  }
}

TEST_CASE("resize_bilinear backward is the adjoint of the forward on larger sizes") {
  // <resize(x), g> = <x, resize^T(g)> exactly up to rounding, for factors gradcheck's small shapes do not reach.
  Rng rng(33);
  struct Case { Shape in; int64_t oh, ow; };
  for (const Case& c : {Case{{2, 6, 5, 3}, 48, 40}, Case{{1, 64, 48, 2}, 8, 6}, Case{{1, 1, 1, 3}, 9, 17},
                        Case{{1, 30, 40, 2}, 47, 13}}) {
    INFO("input " << shape_str(c.in) << " -> " << c.oh << "x" << c.ow);
    Tensor x = random_tensor(c.in, rng).set_requires_grad(true);
    Tensor y = ops::resize_bilinear(x, c.oh, c.ow);
    Tensor g = random_tensor(y.shape(), rng);
    y.backward(g);
    CHECK(dot(y, g) == doctest::Approx(dot(x, x.grad())).epsilon(1e-12));
  }
}

TEST_CASE("resize_bilinear and resize_bilinear_scale match PyTorch (f64 and f32)") {
  SafetensorsContents f = load_fixture("resize.safetensors");
  struct Case { std::string name; double sh, sw; };  // sh = 0: by the golden's output size
  const std::vector<Case> cases = {
      {"up2", 0, 0},    {"up4", 0, 0},         {"down2", 0, 0},          {"up_5x7_to_8x11", 0, 0},
      {"down_9x13_to_4x6", 0, 0}, {"odd_3x1_to_7x2", 0, 0}, {"scale2", 2.0, 2.0}, {"scale0.5", 0.5, 0.5},
      {"scale1.7", 1.7, 1.7},     {"scale1.7x0.5", 1.7, 0.5}};
  for (DType dt : {DType::F64, DType::F32}) {
    const double atol = dt == DType::F64 ? 1e-10 : 1e-5, rtol = dt == DType::F64 ? 1e-9 : 1e-4;
    for (const Case& c : cases) {
      INFO(c.name << " " << std::string(dtype_name(dt)));
      Tensor x = nhwc(f, c.name + "/x", dt).set_requires_grad(true);
      Tensor expected = nhwc(f, c.name + "/y", dt);
      Tensor y = c.sh > 0 ? ops::resize_bilinear_scale(x, c.sh, c.sw)
                          : ops::resize_bilinear(x, expected.dim(1), expected.dim(2));
      check_close(y, expected, atol, rtol, c.name + " forward");
      y.backward(nhwc(f, c.name + "/gy", dt));
      check_close(x.grad(), nhwc(f, c.name + "/gx", dt), atol, rtol, c.name + " gradient");
    }
  }
}

TEST_CASE("resize_bilinear rejects non-positive output sizes and bad inputs, naming the tensor") {
  Tensor x = Tensor::zeros({1, 4, 4, 3}).set_name("feat");
  CHECK_THROWS_WITH_AS(ops::resize_bilinear(x, 0, 4), doctest::Contains("'feat' f32 cpu [1, 4, 4, 3]"), Error);
  CHECK_THROWS_WITH_AS(ops::resize_bilinear(x, 4, -2), doctest::Contains("must be positive"), Error);
  CHECK_THROWS_WITH_AS(ops::resize_bilinear_scale(x, 0.0, 1.0), doctest::Contains("'feat'"), Error);
  CHECK_THROWS_WITH_AS(ops::resize_bilinear_scale(x, 2.0, -1.0), doctest::Contains("must be positive"), Error);
  CHECK_THROWS_WITH_AS(ops::resize_bilinear_scale(x, 0.2, 1.0), doctest::Contains("empty output size 0x4"), Error);
  Tensor flat = Tensor::zeros({4, 4, 3}).set_name("flat");
  CHECK_THROWS_WITH_AS(ops::resize_bilinear(flat, 8, 8), doctest::Contains("'flat'"), Error);
  Tensor empty = Tensor::zeros({1, 0, 4, 3}).set_name("empty");
  CHECK_THROWS_WITH_AS(ops::resize_bilinear(empty, 8, 8), doctest::Contains("'empty'"), Error);
}
