// CUDA convolution through cuDNN on NHWC tensors (OHWI weights are cuDNN's NHWC filter format, KRSC), f32 only.
//
// Each distinct convolution (shapes, stride, padding, dilation, TF32 switch) gets a plan: its cuDNN descriptors
// and, per direction, an algorithm benchmarked once by cudnnFind*Ex on the first call, with a capped workspace from
// cuda::workspace(). Backward algorithms must be deterministic while cuda::deterministic() is on, the default (a fast
// non-deterministic one is used only when cuDNN offers no deterministic one that fits the workspace). The
// per-channel bias add and bias gradient are custom kernels;
// the gradient reduction is two fixed-order passes, without atomics.
#include <cudnn.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "core/cuda_runtime.h"
#include "kernels/conv/conv2d.h"
#include "kernels/dispatch.h"

namespace mtinet::kernels {

namespace {

// The most workspace any cuDNN algorithm may use; faster algorithms needing more are skipped.
constexpr size_t kWorkspaceCap = size_t(256) << 20;
// Candidate algorithms requested from cuDNN per direction (more than it has, so it returns them all).
constexpr int kMaxAlgos = 16;

void check_f32(const char* op, const Tensor& t) {
  MTINET_CHECK(t.dtype() == DType::F32, op, " on CUDA supports f32 only, got ", t.describe());
}

// cuDNN takes int sizes.
int cudnn_int(int64_t v) {
  MTINET_CHECK(v >= 0 && v <= INT32_MAX, "conv2d: size ", v, " does not fit cuDNN's int");
  return int(v);
}

// RAII owners of the cuDNN descriptors.
struct TensorDesc {
  cudnnTensorDescriptor_t d = nullptr;
  TensorDesc() { MTINET_CUDNN_CHECK(cudnnCreateTensorDescriptor(&d)); }
  ~TensorDesc() { cudnnDestroyTensorDescriptor(d); }
  TensorDesc(const TensorDesc&) = delete;
  TensorDesc& operator=(const TensorDesc&) = delete;
};
struct FilterDesc {
  cudnnFilterDescriptor_t d = nullptr;
  FilterDesc() { MTINET_CUDNN_CHECK(cudnnCreateFilterDescriptor(&d)); }
  ~FilterDesc() { cudnnDestroyFilterDescriptor(d); }
  FilterDesc(const FilterDesc&) = delete;
  FilterDesc& operator=(const FilterDesc&) = delete;
};
struct ConvDesc {
  cudnnConvolutionDescriptor_t d = nullptr;
  ConvDesc() { MTINET_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&d)); }
  ~ConvDesc() { cudnnDestroyConvolutionDescriptor(d); }
  ConvDesc(const ConvDesc&) = delete;
  ConvDesc& operator=(const ConvDesc&) = delete;
};

// An algorithm chosen for one direction, with the math type cuDNN benchmarked it under (the descriptor must carry
// that math type when the algorithm runs).
template <class Algo>
struct Choice {
  bool chosen = false;
  Algo algo{};
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
  size_t workspace = 0;
  float ms = 0;  // cuDNN's benchmark time of this algorithm
};

struct ConvPlan {
  TensorDesc x, y;  // x also describes dL/dx, y also dL/dy
  FilterDesc w;
  ConvDesc conv;
  Choice<cudnnConvolutionFwdAlgo_t> forward;
  Choice<cudnnConvolutionBwdDataAlgo_t> backward_data;
  Choice<cudnnConvolutionBwdFilterAlgo_t> backward_filter;
};

// With TF32 off, only FMA kernels: CUDNN_DEFAULT_MATH would let cuDNN use TF32 tensor cores for f32 data.
// With TF32 on, CUDNN_DEFAULT_MATH permits TF32 but never converts f32 data down to f16/bf16 (which
// CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION would).
cudnnMathType_t base_math(bool tf32) { return tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH; }

bool math_allowed(cudnnMathType_t m, bool tf32) {
  return tf32 ? m != CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION : (m == CUDNN_FMA_MATH || m == CUDNN_DEFAULT_MATH);
}

// The switches are part of the key: a plan's algorithms were chosen under them.
using PlanKey = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                           bool, bool>;

PlanKey key_of(const Conv2dShape& s, bool tf32) {
  return {s.n, s.h, s.w, s.cin, s.cout, s.kh, s.kw, s.stride, s.padding, s.dilation, tf32, cuda::deterministic()};
}

std::unique_ptr<ConvPlan> make_plan(const Conv2dShape& s, bool tf32) {
  auto p = std::make_unique<ConvPlan>();
  MTINET_CUDNN_CHECK(cudnnSetTensor4dDescriptor(p->x.d, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, cudnn_int(s.n),
                                                cudnn_int(s.cin), cudnn_int(s.h), cudnn_int(s.w)));
  MTINET_CUDNN_CHECK(cudnnSetTensor4dDescriptor(p->y.d, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, cudnn_int(s.n),
                                                cudnn_int(s.cout), cudnn_int(s.ho), cudnn_int(s.wo)));
  // NHWC filter format = KRSC = {Cout, KH, KW, Cin}: our OHWI weights as they are.
  MTINET_CUDNN_CHECK(cudnnSetFilter4dDescriptor(p->w.d, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NHWC, cudnn_int(s.cout),
                                                cudnn_int(s.cin), cudnn_int(s.kh), cudnn_int(s.kw)));
  const int pad = cudnn_int(s.padding), stride = cudnn_int(s.stride), dil = cudnn_int(s.dilation);
  MTINET_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(p->conv.d, pad, pad, stride, stride, dil, dil,
                                                     CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  MTINET_CUDNN_CHECK(cudnnSetConvolutionMathType(p->conv.d, base_math(tf32)));
  return p;
}

// Every plan made so far. Plans are never evicted: a network has a few hundred distinct convolutions at most.
// References into the map stay valid (map nodes do not move).
struct Plans {
  std::mutex mutex;
  std::map<PlanKey, std::unique_ptr<ConvPlan>> by_key;
};
Plans& plans() {
  static Plans* p = new Plans();  // never destroyed: cuDNN may be gone at exit
  return *p;
}

// The plan for this convolution, created on first use.
ConvPlan& plan_for(const Conv2dShape& s, bool tf32) {
  Plans& all = plans();
  std::lock_guard<std::mutex> lock(all.mutex);
  auto& slot = all.by_key[key_of(s, tf32)];
  if (!slot) slot = make_plan(s, tf32);
  return *slot;
}

const char* math_name(cudnnMathType_t m) {
  switch (m) {
    case CUDNN_DEFAULT_MATH: return "default";
    case CUDNN_TENSOR_OP_MATH: return "tensor-op";
    case CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION: return "tensor-op-conv";
    case CUDNN_FMA_MATH: return "fma";
  }
  return "?";
}

// cuDNN's algorithm enums, by value (cudnn_cnn.h).
const char* algo_name(cudnnConvolutionFwdAlgo_t a) {
  static const char* names[] = {"implicit_gemm", "implicit_precomp_gemm", "gemm", "direct",
                                "fft", "fft_tiling", "winograd", "winograd_nonfused"};
  return int(a) >= 0 && int(a) < 8 ? names[int(a)] : "?";
}
const char* algo_name(cudnnConvolutionBwdDataAlgo_t a) {
  static const char* names[] = {"algo_0", "algo_1", "fft", "fft_tiling", "winograd", "winograd_nonfused"};
  return int(a) >= 0 && int(a) < 6 ? names[int(a)] : "?";
}
const char* algo_name(cudnnConvolutionBwdFilterAlgo_t a) {
  static const char* names[] = {"algo_0", "algo_1", "fft", "algo_3", "winograd", "winograd_nonfused", "fft_tiling"};
  return int(a) >= 0 && int(a) < 7 ? names[int(a)] : "?";
}

template <class Algo>
void describe(std::ostringstream& out, const char* direction, const Choice<Algo>& c) {
  out << "  " << direction << " ";
  if (!c.chosen) {
    out << "-";
    return;
  }
  out << algo_name(c.algo) << " (" << math_name(c.math) << ", ws " << (c.workspace >> 20) << " MiB, " << c.ms
      << " ms)";
}

// Picks from cuDNN's benchmark results (fastest first): the fastest that succeeded, fits the workspace cap and has
// an allowed math type, among the deterministic ones when `need_deterministic` and one exists.
template <class Perf, class Algo>
Choice<Algo> pick(const Perf* perf, int count, bool tf32, bool need_deterministic, const char* direction) {
  Choice<Algo> any, deterministic;
  for (int i = 0; i < count; ++i) {
    const Perf& r = perf[i];
    if (r.status != CUDNN_STATUS_SUCCESS || r.memory > kWorkspaceCap || !math_allowed(r.mathType, tf32)) continue;
    // With TF32 off the algorithm runs under FMA math whatever cuDNN reports (DEFAULT would permit TF32).
    Choice<Algo> c{true, r.algo, tf32 ? r.mathType : CUDNN_FMA_MATH, r.memory, r.time};
    if (!any.chosen) any = c;
    if (!deterministic.chosen && r.determinism == CUDNN_DETERMINISTIC) deterministic = c;
  }
  MTINET_CHECK(any.chosen, "conv2d: cuDNN found no usable ", direction, " algorithm within a ", kWorkspaceCap >> 20,
               " MiB workspace");
  return need_deterministic && deterministic.chosen ? deterministic : any;
}

void set_math(ConvPlan& p, cudnnMathType_t m) { MTINET_CUDNN_CHECK(cudnnSetConvolutionMathType(p.conv.d, m)); }

__global__ void bias_add_kernel(float* y, const float* b, int64_t n, int64_t c) {
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) y[i] += b[i % c];
}

// Bias gradient, pass 1: block (kCols x kRowLanes) sums rows [blockIdx.y * rows_per, +rows_per) of columns
// [blockIdx.x * kCols, +kCols): each lane strides over the rows, then the lanes are added in a fixed tree.
// rows_per depends only on the shape, so the summation order (and the result) is the same on every run.
constexpr int kCols = 32;
constexpr int kRowLanes = 8;
constexpr int64_t kMinRowsPerPartial = 512;
constexpr int64_t kMaxPartials = 4096;

__global__ void bias_partial_kernel(const float* gy, int64_t rows, int64_t c, int64_t rows_per, float* partial) {
  __shared__ float lanes[kRowLanes][kCols];
  const int64_t col = int64_t(blockIdx.x) * kCols + threadIdx.x;
  const int64_t begin = int64_t(blockIdx.y) * rows_per;
  const int64_t end = min(rows, begin + rows_per);
  float acc = 0.f;
  if (col < c) {
    for (int64_t r = begin + threadIdx.y; r < end; r += kRowLanes) acc += gy[r * c + col];
  }
  lanes[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  for (int half = kRowLanes / 2; half > 0; half /= 2) {
    if (int(threadIdx.y) < half) lanes[threadIdx.y][threadIdx.x] += lanes[threadIdx.y + half][threadIdx.x];
    __syncthreads();
  }
  if (threadIdx.y == 0 && col < c) partial[int64_t(blockIdx.y) * c + col] = lanes[0][threadIdx.x];
}

// Pass 2: one thread per channel adds the partials in row-block order (in double: there can be thousands).
__global__ void bias_final_kernel(const float* partial, int64_t blocks, int64_t c, float* gb) {
  const int64_t col = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (col >= c) return;
  double total = 0;
  for (int64_t b = 0; b < blocks; ++b) total += double(partial[b * c + col]);
  gb[col] = float(total);
}

}  // namespace

void conv2d_forward_cuda(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dShape& s, Tensor& y) {
  check_f32("conv2d", x);
  const bool tf32 = cuda::tf32_enabled();
  ConvPlan& p = plan_for(s, tf32);
  cudnnHandle_t h = cuda::cudnn();
  if (!p.forward.chosen) {
    cudnnConvolutionFwdAlgoPerf_t perf[kMaxAlgos];
    int count = 0;
    set_math(p, base_math(tf32));
    // Benchmarks on the real buffers; y is overwritten by the real call below.
    MTINET_CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithmEx(h, p.x.d, x.raw_data(), p.w.d, w.raw_data(), p.conv.d,
                                                              p.y.d, y.raw_data(), kMaxAlgos, &count, perf,
                                                              cuda::workspace(kWorkspaceCap), kWorkspaceCap));
    p.forward = pick<cudnnConvolutionFwdAlgoPerf_t, cudnnConvolutionFwdAlgo_t>(perf, count, tf32, false, "forward");
  }
  set_math(p, p.forward.math);
  const float one = 1.f, zero = 0.f;
  MTINET_CUDNN_CHECK(cudnnConvolutionForward(h, &one, p.x.d, x.raw_data(), p.w.d, w.raw_data(), p.conv.d,
                                             p.forward.algo, cuda::workspace(p.forward.workspace),
                                             p.forward.workspace, &zero, p.y.d, y.raw_data()));
  if (bias.defined()) bias_add_cuda(y, bias);
}

void conv2d_backward_input_cuda(const Tensor& gy, const Tensor& w, const Conv2dShape& s, Tensor& gx) {
  check_f32("conv2d backward", gy);
  const bool tf32 = cuda::tf32_enabled();
  ConvPlan& p = plan_for(s, tf32);
  cudnnHandle_t h = cuda::cudnn();
  if (!p.backward_data.chosen) {
    cudnnConvolutionBwdDataAlgoPerf_t perf[kMaxAlgos];
    int count = 0;
    set_math(p, base_math(tf32));
    MTINET_CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithmEx(
        h, p.w.d, w.raw_data(), p.y.d, gy.raw_data(), p.conv.d, p.x.d, gx.raw_data(), kMaxAlgos, &count, perf,
        cuda::workspace(kWorkspaceCap), kWorkspaceCap));
    p.backward_data = pick<cudnnConvolutionBwdDataAlgoPerf_t, cudnnConvolutionBwdDataAlgo_t>(
        perf, count, tf32, cuda::deterministic(), "backward-data");
  }
  set_math(p, p.backward_data.math);
  const float one = 1.f, zero = 0.f;
  MTINET_CUDNN_CHECK(cudnnConvolutionBackwardData(h, &one, p.w.d, w.raw_data(), p.y.d, gy.raw_data(), p.conv.d,
                                                  p.backward_data.algo, cuda::workspace(p.backward_data.workspace),
                                                  p.backward_data.workspace, &zero, p.x.d, gx.raw_data()));
}

void conv2d_backward_weight_cuda(const Tensor& gy, const Tensor& x, const Conv2dShape& s, Tensor& gw) {
  check_f32("conv2d backward", gy);
  const bool tf32 = cuda::tf32_enabled();
  ConvPlan& p = plan_for(s, tf32);
  cudnnHandle_t h = cuda::cudnn();
  if (!p.backward_filter.chosen) {
    cudnnConvolutionBwdFilterAlgoPerf_t perf[kMaxAlgos];
    int count = 0;
    set_math(p, base_math(tf32));
    MTINET_CUDNN_CHECK(cudnnFindConvolutionBackwardFilterAlgorithmEx(
        h, p.x.d, x.raw_data(), p.y.d, gy.raw_data(), p.conv.d, p.w.d, gw.raw_data(), kMaxAlgos, &count, perf,
        cuda::workspace(kWorkspaceCap), kWorkspaceCap));
    p.backward_filter = pick<cudnnConvolutionBwdFilterAlgoPerf_t, cudnnConvolutionBwdFilterAlgo_t>(
        perf, count, tf32, cuda::deterministic(), "backward-filter");
  }
  set_math(p, p.backward_filter.math);
  const float one = 1.f, zero = 0.f;
  MTINET_CUDNN_CHECK(cudnnConvolutionBackwardFilter(h, &one, p.x.d, x.raw_data(), p.y.d, gy.raw_data(), p.conv.d,
                                                    p.backward_filter.algo,
                                                    cuda::workspace(p.backward_filter.workspace),
                                                    p.backward_filter.workspace, &zero, p.w.d, gw.raw_data()));
}

std::vector<std::string> conv2d_cuda_plans() {
  Plans& all = plans();
  std::lock_guard<std::mutex> lock(all.mutex);
  std::vector<std::string> lines;
  for (const auto& [key, p] : all.by_key) {
    auto [n, h, w, cin, cout, kh, kw, stride, padding, dilation, tf32, deterministic] = key;
    std::ostringstream out;
    out << n << "x" << h << "x" << w << "x" << cin << " -> " << cout << " k" << kh << "x" << kw << " s" << stride
        << " p" << padding << " d" << dilation << (tf32 ? " tf32" : " fp32")
        << (deterministic ? "" : " nondet");
    describe(out, "fwd", p->forward);
    describe(out, "bwd-data", p->backward_data);
    describe(out, "bwd-filter", p->backward_filter);
    lines.push_back(out.str());
  }
  return lines;
}

void bias_add_cuda(Tensor& y, const Tensor& b) {
  check_f32("bias add", y);
  const int64_t n = y.numel(), c = y.dim(-1);
  if (n == 0) return;
  bias_add_kernel<<<cuda::blocks_for(n), 256, 0, cuda::stream()>>>(y.data<float>(), b.data<float>(), n, c);
  MTINET_CUDA_LAUNCH_CHECK("bias_add_kernel");
}

void bias_backward_cuda(const Tensor& gy, Tensor& gb) {
  check_f32("bias gradient", gy);
  const int64_t c = gy.dim(-1), rows = gy.numel() / c;
  int64_t rows_per = (rows + kMaxPartials - 1) / kMaxPartials;
  if (rows_per < kMinRowsPerPartial) rows_per = kMinRowsPerPartial;
  const int64_t blocks = rows == 0 ? 1 : (rows + rows_per - 1) / rows_per;  // <= kMaxPartials
  // Stream-ordered scratch from the caching allocator: freed on return, after the kernels below are queued.
  Tensor partial = Tensor::empty({blocks, c}, DType::F32, Device::CUDA);
  if (rows == 0) {
    MTINET_CUDA_CHECK(cudaMemsetAsync(partial.raw_data(), 0, partial.nbytes(), cuda::stream()));
  } else {
    dim3 grid(unsigned((c + kCols - 1) / kCols), unsigned(blocks));
    bias_partial_kernel<<<grid, dim3(kCols, kRowLanes), 0, cuda::stream()>>>(gy.data<float>(), rows, c, rows_per,
                                                                             partial.data<float>());
    MTINET_CUDA_LAUNCH_CHECK("bias_partial_kernel");
  }
  bias_final_kernel<<<unsigned((c + 255) / 256), 256, 0, cuda::stream()>>>(partial.data<float>(), blocks, c,
                                                                           gb.data<float>());
  MTINET_CUDA_LAUNCH_CHECK("bias_final_kernel");
}

}  // namespace mtinet::kernels
