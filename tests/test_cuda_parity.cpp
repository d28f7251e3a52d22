// CUDA backend: the element-wise and reduction ops against the CPU reference (outputs and gradients, poisoned
// outputs), the caching allocator, copies, and the runtime switches. The other op families have their parity cases
// in tests/test_cuda_parity_<family>.cpp. Without a GPU these tests report themselves as skipped.
#include "core/ops.h"
#include "cuda_parity.h"

using namespace mtinet;
using namespace mtinet::test;

namespace {
// Element-wise ops in f32 do one rounding on both devices, so they agree to the last bit; sigmoid's exp may differ
// by a few ulp between the host and device math libraries.
constexpr Tolerance kExact{0.0, 1e-7};
constexpr Tolerance kUlps{1e-7, 1e-6};
// Sums accumulate in double on both devices, but in a different order.
constexpr Tolerance kSum{1e-6, 1e-6};

InputMaker uniform_inputs(int count, double lo = -1.0, double hi = 1.0) {
  return [=](const Shape& s, Rng& rng) { return random_f32_inputs(count, s, rng, lo, hi); };
}
}  // namespace

TEST_CASE("cuda: availability is reported without throwing, and CUDA use without a GPU is an Error") {
  bool available = false;
  CHECK_NOTHROW(available = cuda_available());
  if (available) {
    CHECK(default_device() == Device::CUDA);
    CHECK(parse_device("cuda") == Device::CUDA);
  } else {
    CHECK(default_device() == Device::CPU);
    CHECK_THROWS_AS(parse_device("cuda"), Error);
    CHECK_THROWS_AS(Tensor::empty({4}, DType::F32, Device::CUDA), Error);
    CHECK_THROWS_AS(Tensor::zeros({4}).to(Device::CUDA), Error);
  }
}

#ifdef MTINET_WITH_CUDA
namespace {
cudaError_t failing_cuda_call() { return cudaErrorInvalidValue; }
}  // namespace

// Runs without a GPU: the checks only format the library's error strings.
TEST_CASE("cuda: failing CUDA, cuBLAS and cuDNN calls throw an Error naming the call, file and line") {
  auto cuda_call = [] { MTINET_CUDA_CHECK(failing_cuda_call()); };
  CHECK_THROWS_WITH_AS(cuda_call(), doctest::Contains("test_cuda_parity.cpp:"), Error);
  CHECK_THROWS_WITH_AS(cuda_call(), doctest::Contains("failing_cuda_call() failed"), Error);
  auto cublas_call = [] { MTINET_CUBLAS_CHECK(CUBLAS_STATUS_NOT_INITIALIZED); };
  CHECK_THROWS_WITH_AS(cublas_call(), doctest::Contains("CUBLAS_STATUS_NOT_INITIALIZED failed"), Error);
  auto cudnn_call = [] { MTINET_CUDNN_CHECK(CUDNN_STATUS_BAD_PARAM); };
  CHECK_THROWS_WITH_AS(cudnn_call(), doctest::Contains("CUDNN_STATUS_BAD_PARAM failed"), Error);
}

TEST_CASE("cuda: debug-sync and TF32 switches can be set and read") {
  bool sync0 = cuda::debug_sync(), tf0 = cuda::tf32_enabled();
  cuda::set_debug_sync(true);
  CHECK(cuda::debug_sync());
  cuda::set_debug_sync(false);
  CHECK_FALSE(cuda::debug_sync());
  cuda::set_tf32(false);
  CHECK_FALSE(cuda::tf32_enabled());
  cuda::set_tf32(true);
  CHECK(cuda::tf32_enabled());
  cuda::set_debug_sync(sync0);
  cuda::set_tf32(tf0);
}
#endif

// ---- parity of the ops ----

TEST_CASE("cuda: relu parity") {
  if (skip_without_gpu()) return;
  check_parity_on_shapes("relu", [](const std::vector<Tensor>& in) { return ops::relu(in[0]); }, uniform_inputs(1),
                         kExact, kExact);
}

TEST_CASE("cuda: sigmoid parity") {
  if (skip_without_gpu()) return;
  check_parity_on_shapes("sigmoid", [](const std::vector<Tensor>& in) { return ops::sigmoid(in[0]); },
                         uniform_inputs(1, -8.0, 8.0), kUlps, kUlps);
}

TEST_CASE("cuda: add parity") {
  if (skip_without_gpu()) return;
  check_parity_on_shapes("add", [](const std::vector<Tensor>& in) { return ops::add(in[0], in[1]); },
                         uniform_inputs(2), kExact, kExact);
}

TEST_CASE("cuda: mul parity") {
  if (skip_without_gpu()) return;
  check_parity_on_shapes("mul", [](const std::vector<Tensor>& in) { return ops::mul(in[0], in[1]); },
                         uniform_inputs(2), kExact, kExact);
}

TEST_CASE("cuda: scale parity") {
  if (skip_without_gpu()) return;
  check_parity_on_shapes("scale", [](const std::vector<Tensor>& in) { return ops::scale(in[0], -2.5); },
                         uniform_inputs(1), kExact, kExact);
}

TEST_CASE("cuda: reshape parity") {
  if (skip_without_gpu()) return;
  auto flatten_rows = [](const std::vector<Tensor>& in) {
    const Shape& s = in[0].shape();
    return ops::reshape(in[0], {s[0] * s[1], s[2] * s[3]});
  };
  check_parity_on_shapes("reshape", flatten_rows, uniform_inputs(1), kExact, kExact);
}

TEST_CASE("cuda: sum parity") {
  if (skip_without_gpu()) return;
  check_parity_on_shapes("sum", [](const std::vector<Tensor>& in) { return ops::sum(in[0]); }, uniform_inputs(1),
                         kSum, kExact);
}

TEST_CASE("cuda: mean parity") {
  if (skip_without_gpu()) return;
  check_parity_on_shapes("mean", [](const std::vector<Tensor>& in) { return ops::mean(in[0]); }, uniform_inputs(1),
                         kSum, kExact);
}

TEST_CASE("cuda: argmax_channels parity") {
  if (skip_without_gpu()) return;
  auto no_grad_input = [](const Shape& s, Rng& rng) {
    return std::vector<Tensor>{random_tensor(s, rng, -1.0, 1.0, DType::F32)};
  };
  check_parity_on_shapes("argmax_channels", [](const std::vector<Tensor>& in) { return ops::argmax_channels(in[0]); },
                         no_grad_input, kExact, kExact);
  // Ties: the first maximum wins on both devices.
  Tensor ties = Tensor::from_vector<float>({2, 4}, {1, 3, 3, 0, 2, 2, 2, 2});
  std::vector<double> idx = ops::argmax_channels(ties.to(Device::CUDA)).to_double_vector();
  CHECK(idx == std::vector<double>{1, 0});
}

TEST_CASE("cuda: a chain reusing an input accumulates gradients like the CPU") {
  if (skip_without_gpu()) return;
  auto chain = [](const std::vector<Tensor>& in) {
    Tensor h = ops::mul(ops::sigmoid(in[0]), ops::relu(ops::add(in[0], in[1])));
    return ops::mean(ops::scale(h, 3.0));
  };
  check_parity_on_shapes("chain", chain, uniform_inputs(2), kSum, kUlps);
}

TEST_CASE("cuda: f64 runs on CUDA too") {
  if (skip_without_gpu()) return;
  Rng rng(5);
  std::vector<Tensor> in{random_tensor({2, 5, 7, 3}, rng).set_requires_grad(true),
                         random_tensor({2, 5, 7, 3}, rng).set_requires_grad(true)};
  auto chain = [](const std::vector<Tensor>& x) {
    return ops::sum(ops::mul(ops::sigmoid(x[0]), ops::relu(ops::add(x[0], x[1]))));
  };
  check_parity("f64 chain", chain, in, {1e-12, 1e-12}, {1e-14, 1e-12});
}

TEST_CASE("cuda: sum is bitwise repeatable") {
  if (skip_without_gpu()) return;
  Rng rng(6);
  Tensor x = random_tensor({3, 101, 97, 41}, rng, -1.0, 1.0, DType::F32).to(Device::CUDA);
  double first = ops::sum(x).item();
  for (int i = 0; i < 5; ++i) CHECK(ops::sum(x).item() == first);
}

// ---- tensors, copies and the allocator ----

TEST_CASE("cuda: copies round-trip between host and device at every size") {
  if (skip_without_gpu()) return;
  // 0 elements, 1, odd, and large enough to go through both staging slots several times.
  for (int64_t n : {int64_t(0), int64_t(1), int64_t(1001), int64_t(2600003)}) {
    INFO("elements: " << n);
    Rng rng{uint64_t(n)};
    Tensor host = random_tensor({n}, rng, -1.0, 1.0, DType::F32);
    Tensor dev = host.to(Device::CUDA);
    Tensor dev2 = dev.clone();  // device to device
    Tensor back = dev2.to(Device::CPU);
    REQUIRE(back.numel() == n);
    int64_t mismatches = 0;
    for (int64_t i = 0; i < n; ++i) mismatches += back.data<float>()[i] != host.data<float>()[i];
    CHECK(mismatches == 0);
  }
}

TEST_CASE("cuda: fill, zeros and dtype conversions match the CPU for every dtype") {
  if (skip_without_gpu()) return;
  PoisonGuard poison;
  for (DType dt : {DType::F32, DType::F64, DType::I32, DType::I64, DType::U8}) {
    INFO("dtype " << dtype_name(dt));
    CHECK(Tensor::full({3, 5}, 7.0, dt, Device::CUDA).to_double_vector() == std::vector<double>(15, 7.0));
    CHECK(Tensor::zeros({3, 5}, dt, Device::CUDA).to_double_vector() == std::vector<double>(15, 0.0));
  }
  Rng rng(8);
  Tensor src = random_tensor({4, 9, 5}, rng, 0.0, 200.0, DType::F32);
  for (DType to : {DType::F32, DType::F64, DType::I32, DType::I64, DType::U8}) {
    Tensor cpu = src.to(to);
    Tensor gpu = src.to(Device::CUDA).to(to);
    check_matches_cpu(gpu, cpu, kExact, std::string("f32 to ") + dtype_name(to));
    for (DType back : {DType::F32, DType::F64, DType::I32, DType::I64, DType::U8}) {
      check_matches_cpu(gpu.to(back), cpu.to(back), kExact,
                        std::string(dtype_name(to)) + " to " + dtype_name(back));
    }
  }
}

TEST_CASE("cuda: poisoned allocations read back as NaN, so unwritten outputs are caught") {
  if (skip_without_gpu()) return;
  PoisonGuard poison;
  for (double v : Tensor::empty({7}, DType::F32, Device::CUDA).to_double_vector()) CHECK(std::isnan(v));
  for (double v : Tensor::empty({3}, DType::F64, Device::CUDA).to_double_vector()) CHECK(std::isnan(v));
}

TEST_CASE("cuda: caching allocator makes no cudaMalloc in a steady state") {
  if (skip_without_gpu()) return;
#ifdef MTINET_WITH_CUDA
  Rng rng(9);
  Tensor x = random_tensor({2, 64, 64, 32}, rng, -1.0, 1.0, DType::F32).to(Device::CUDA).set_requires_grad(true);
  auto step = [&] {
    Tensor small = Tensor::zeros({37}, DType::F32, Device::CUDA);
    Tensor y = ops::mean(ops::mul(ops::relu(x), ops::sigmoid(x)));
    y.backward();
    x.impl().grad.reset();
    return y.item() + small.to_double_vector().front();  // host reads, like a training loop's loss logging
  };
  for (int i = 0; i < 3; ++i) step();
  size_t mallocs = cuda::memory_stats().device_mallocs;
  size_t current = cuda::memory_stats().current;
  for (int i = 0; i < 20; ++i) step();
  CHECK(cuda::memory_stats().device_mallocs == mallocs);
  CHECK(cuda::memory_stats().current == current);
#endif
}

TEST_CASE("cuda: memory stats track current, peak and cached bytes") {
  if (skip_without_gpu()) return;
#ifdef MTINET_WITH_CUDA
  cuda::reset_peak_memory();
  cuda::MemoryStats s0 = cuda::memory_stats();
  CHECK(s0.peak == s0.current);
  size_t block = size_t(6) << 20;  // a multiple of the 2 MiB large-block granule: handed out exactly
  cuda::MemoryStats s1;
  {
    Tensor t = Tensor::empty({int64_t(block)}, DType::U8, Device::CUDA);
    s1 = cuda::memory_stats();
    CHECK(s1.current >= s0.current + block);
    CHECK(s1.current <= s0.current + 2 * block);
    CHECK(s1.peak == s1.current);
    CHECK(s1.cached >= s1.current);
    Tensor odd = Tensor::empty({1000}, DType::U8, Device::CUDA);  // rounds up to at least 1024 bytes
    CHECK(cuda::memory_stats().current >= s1.current + 1024);
  }
  cuda::MemoryStats s2 = cuda::memory_stats();
  CHECK(s2.current == s0.current);
  CHECK(s2.peak >= s1.current + 1024);
  CHECK(s2.cached >= s1.cached);  // freed blocks stay cached
  cuda::reset_peak_memory();
  CHECK(cuda::memory_stats().peak == s2.current);
  cuda::release_cached_blocks();
  CHECK(cuda::memory_stats().cached == cuda::memory_stats().current);
#endif
}

TEST_CASE("cuda: out of GPU memory is an Error with the sizes, and the allocator keeps working") {
  if (skip_without_gpu()) return;
  int64_t huge = int64_t(1) << 46;  // 64 TiB
  CHECK_THROWS_WITH_AS(Tensor::empty({huge}, DType::U8, Device::CUDA), doctest::Contains("out of GPU memory"), Error);
  CHECK_THROWS_WITH_AS(Tensor::empty({huge}, DType::U8, Device::CUDA), doctest::Contains("requested 70368744177664"),
                       Error);
  CHECK(Tensor::full({5}, 2.0, DType::F32, Device::CUDA).to_double_vector() == std::vector<double>(5, 2.0));
}

TEST_CASE("cuda: the workspace grows on demand and is reused") {
  if (skip_without_gpu()) return;
#ifdef MTINET_WITH_CUDA
  void* a = cuda::workspace(1000);
  CHECK(a != nullptr);
  CHECK(cuda::workspace(10) == a);
  void* b = cuda::workspace(size_t(10) << 20);
  CHECK(b != nullptr);
  CHECK(cuda::workspace(1000) == b);
  CHECK(cuda::stream() != nullptr);
  CHECK(cuda::cublas() != nullptr);
  CHECK(cuda::cudnn() != nullptr);
#endif
}

TEST_CASE("cuda: debug-sync mode still runs ops correctly") {
  if (skip_without_gpu()) return;
#ifdef MTINET_WITH_CUDA
  bool before = cuda::debug_sync();
  cuda::set_debug_sync(true);
  Tensor x = Tensor::full({3, 3}, -2.0, DType::F32, Device::CUDA);
  CHECK(ops::sum(ops::relu(ops::scale(x, -1.0))).item() == 18.0);
  cuda::synchronize();
  cuda::set_debug_sync(before);
#endif
}
