// CUDA kernels for batch normalisation (f32). Per-channel sums are deterministic: each block sums a fixed chunk of
// rows for 32 channels into its own partial (a fixed tree over its row lanes), then one block per channel adds the
// chunk partials in a fixed order. No float atomics, so repeated runs give identical bits. Every term and sum is in
// double, as on the CPU (batch_norm_cpu.cpp): the gradient sums cancel to a small fraction of their terms after a
// train-mode BatchNorm, and f32 partials there made the first H200 run's bias gradients ~20x less accurate than the
// CPU's; double costs nothing measurable in a memory-bound pass.
#include <cstdint>

#include "core/cuda_runtime.h"
#include "kernels/batch_norm/batch_norm.h"
#include "kernels/batch_norm/batch_norm_math.h"

namespace mtinet::kernels {

namespace {

constexpr int kLanesX = 32;            // channels per block (one warp reads 32 adjacent channels of a row)
constexpr int kLanesY = 8;             // row lanes per block
constexpr int64_t kChunkRows = 256;    // rows per partial: fixed, so the summation order never depends on the GPU
constexpr int kFinalThreads = 256;

void require_f32(const char* fn, const Tensor& x) {
  MTINET_CHECK(x.dtype() == DType::F32, fn, " on CUDA supports f32 only, got ", x.describe());
}

int64_t rows_of(const Tensor& x) { return x.dim(-1) ? x.numel() / x.dim(-1) : 0; }
int64_t chunks_of(int64_t rows) { return (rows + kChunkRows - 1) / kChunkRows; }
const float* ptr_or_null(const Tensor& t) { return t.defined() ? t.data<float>() : nullptr; }

// Per-row terms to sum, K quantities each: term(i, c, acc) adds element i's (channel c) terms to acc[0..K).
struct SumX {
  static constexpr int K = 1;
  const float* x;
  __device__ void operator()(int64_t i, int64_t, double* acc) const { acc[0] += double(x[i]); }
};
struct SumSquaredDeviation {
  static constexpr int K = 1;
  const float* x;
  const float* mean;
  __device__ void operator()(int64_t i, int64_t c, double* acc) const {
    double d = double(x[i]) - double(mean[c]);
    acc[0] += d * d;
  }
};
// sum(g) and sum(g * (x - mean)); the second is scaled by invstd at the end. g is gy, or with a fused ReLU
// (relu_y not null) relu_bwd(relu_y, gy), stored to g_masked: the partials kernel visits each element once.
struct SumGradTerms {
  static constexpr int K = 2;
  const float* gy;
  const float* x;
  const float* mean;
  const float* relu_y;
  float* g_masked;
  __device__ void operator()(int64_t i, int64_t c, double* acc) const {
    float g = gy[i];
    if (relu_y) {
      g = relu_bwd(relu_y[i], g);
      g_masked[i] = g;
    }
    acc[0] += double(g);
    acc[1] += double(g) * (double(x[i]) - double(mean[c]));
  }
};

// partial[(k*chunks + chunk)*ch + c] = sum over the chunk's rows of term k. Grid (chunks, ceil(ch/32)).
template <class Term>
__global__ void channel_partials_kernel(Term term, int64_t rows, int64_t ch, int64_t chunks, double* partial) {
  constexpr int K = Term::K;
  __shared__ double lanes[K][kLanesY][kLanesX];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t c = int64_t(blockIdx.y) * kLanesX + tx;
  const int64_t chunk = blockIdx.x;
  double acc[K];
  for (int k = 0; k < K; ++k) acc[k] = 0.0;
  if (c < ch) {
    const int64_t begin = chunk * kChunkRows;
    const int64_t end = begin + kChunkRows < rows ? begin + kChunkRows : rows;
    for (int64_t r = begin + ty; r < end; r += kLanesY) term(r * ch + c, c, acc);
  }
  for (int k = 0; k < K; ++k) lanes[k][ty][tx] = acc[k];
  __syncthreads();
  for (int s = kLanesY / 2; s > 0; s /= 2) {
    if (ty < s)
      for (int k = 0; k < K; ++k) lanes[k][ty][tx] += lanes[k][ty + s][tx];
    __syncthreads();
  }
  if (ty == 0 && c < ch)
    for (int k = 0; k < K; ++k) partial[(k * chunks + chunk) * ch + c] = lanes[k][0][tx];
}

// What to do with a channel's total of quantity k.
struct StoreMean {
  float* mean;
  double rows;
  __device__ void operator()(int64_t c, int, double total) const { mean[c] = float(total / rows); }
};
struct StoreVar {
  float* var;
  double rows;
  __device__ void operator()(int64_t c, int, double total) const { var[c] = float(total / rows); }
};
struct StoreGradSums {
  float* sum_gy;
  float* sum_gy_xhat;
  const float* var;
  float eps;
  __device__ void operator()(int64_t c, int k, double total) const {
    if (k == 0) sum_gy[c] = float(total);
    else sum_gy_xhat[c] = float(total) * bn_invstd(var[c], eps);
  }
};

// One block per (channel, quantity): adds the chunk partials in a fixed order, in double. Grid (ch, K).
template <class Store>
__global__ void channel_final_kernel(const double* partial, int64_t chunks, int64_t ch, Store store) {
  __shared__ double lanes[kFinalThreads];
  const int64_t c = blockIdx.x;
  const int k = blockIdx.y;
  double acc = 0;
  for (int64_t b = threadIdx.x; b < chunks; b += kFinalThreads) acc += partial[(k * chunks + b) * ch + c];
  lanes[threadIdx.x] = acc;
  __syncthreads();
  for (int s = kFinalThreads / 2; s > 0; s /= 2) {
    if (int(threadIdx.x) < s) lanes[threadIdx.x] += lanes[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) store(c, k, lanes[0]);
}

// Sums Term's K quantities per channel over the rows and hands each total to store.
template <class Term, class Store>
void channel_sums(const Term& term, int64_t rows, int64_t ch, const Store& store) {
  if (ch == 0) return;
  const int64_t chunks = chunks_of(rows > 0 ? rows : 1);
  Tensor partial = Tensor::empty(Shape{Term::K * chunks * ch}, DType::F64, Device::CUDA);
  dim3 block(kLanesX, kLanesY);
  dim3 grid(unsigned(chunks), unsigned((ch + kLanesX - 1) / kLanesX));
  channel_partials_kernel<<<grid, block, 0, cuda::stream()>>>(term, rows, ch, chunks, partial.data<double>());
  MTINET_CUDA_LAUNCH_CHECK("channel_partials_kernel");
  channel_final_kernel<<<dim3(unsigned(ch), unsigned(Term::K)), kFinalThreads, 0, cuda::stream()>>>(
      partial.data<double>(), chunks, ch, store);
  MTINET_CUDA_LAUNCH_CHECK("channel_final_kernel");
}

__global__ void update_running_kernel(const float* mean, const float* var, int64_t ch, float count, float momentum,
                                      float* running_mean, float* running_var) {
  int64_t c = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= ch) return;
  running_mean[c] = bn_running_update(running_mean[c], mean[c], momentum);
  running_var[c] = bn_running_update(running_var[c], bn_unbiased_var(var[c], count), momentum);
}

// weight/bias may be null (no affine), residual null (nothing added).
__global__ void apply_kernel(const float* x, const float* mean, const float* var, const float* weight,
                             const float* bias, const float* residual, bool relu, float eps, int64_t n, int64_t ch,
                             float* y) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t c = i % ch;
    float normalised =
        bn_apply(x[i], mean[c], bn_invstd(var[c], eps), weight ? weight[c] : 1.f, bias ? bias[c] : 0.f);
    y[i] = bn_add_relu(normalised, residual ? residual[i] : 0.f, residual != nullptr, relu);
  }
}

__global__ void backward_input_kernel(const float* gy, const float* x, const float* mean, const float* var,
                                      const float* weight, const float* sum_gy, const float* sum_gy_xhat, float eps,
                                      bool batch_stats, int64_t n, int64_t ch, float rows, float* gx) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t c = i % ch;
    float invstd = bn_invstd(var[c], eps);
    float weight_invstd = (weight ? weight[c] : 1.f) * invstd;
    if (batch_stats) {
      float xhat = (x[i] - mean[c]) * invstd;
      gx[i] = bn_grad_input_batch(gy[i], xhat, weight_invstd, sum_gy[c] / rows, sum_gy_xhat[c] / rows);
    } else {
      gx[i] = weight_invstd * gy[i];
    }
  }
}

}  // namespace

void batch_norm_stats_cuda(const Tensor& x, Tensor& mean, Tensor& var) {
  require_f32("batch_norm", x);
  const int64_t rows = rows_of(x), ch = x.dim(-1);
  // Two passes (mean, then squared deviations from it): no cancellation, unlike sum(x^2) - mean^2.
  channel_sums(SumX{x.data<float>()}, rows, ch, StoreMean{mean.data<float>(), double(rows)});
  channel_sums(SumSquaredDeviation{x.data<float>(), mean.data<float>()}, rows, ch,
               StoreVar{var.data<float>(), double(rows)});
}

void batch_norm_update_running_cuda(const Tensor& mean, const Tensor& var, int64_t count, double momentum,
                                    Tensor& running_mean, Tensor& running_var) {
  require_f32("batch_norm", mean);
  const int64_t ch = mean.numel();
  if (ch == 0) return;
  update_running_kernel<<<cuda::blocks_for(ch), 256, 0, cuda::stream()>>>(
      mean.data<float>(), var.data<float>(), ch, float(count), float(momentum), running_mean.data<float>(),
      running_var.data<float>());
  MTINET_CUDA_LAUNCH_CHECK("update_running_kernel");
}

void batch_norm_apply_cuda(const Tensor& x, const Tensor& mean, const Tensor& var, const Tensor& weight,
                           const Tensor& bias, const Tensor& residual, bool relu, double eps, Tensor& y) {
  require_f32("batch_norm", x);
  const int64_t n = x.numel();
  if (n == 0) return;
  apply_kernel<<<cuda::blocks_for(n), 256, 0, cuda::stream()>>>(
      x.data<float>(), mean.data<float>(), var.data<float>(), ptr_or_null(weight), ptr_or_null(bias),
      ptr_or_null(residual), relu, float(eps), n, x.dim(-1), y.data<float>());
  MTINET_CUDA_LAUNCH_CHECK("apply_kernel");
}

void batch_norm_backward_reduce_cuda(const Tensor& gy, const Tensor& x, const Tensor& mean, const Tensor& var,
                                     const Tensor& relu_y, double eps, Tensor& sum_gy, Tensor& sum_gy_xhat,
                                     Tensor& g_masked) {
  require_f32("batch_norm backward", x);
  float* gm = relu_y.defined() ? g_masked.data<float>() : nullptr;
  channel_sums(SumGradTerms{gy.data<float>(), x.data<float>(), mean.data<float>(), ptr_or_null(relu_y), gm},
               rows_of(x), x.dim(-1),
               StoreGradSums{sum_gy.data<float>(), sum_gy_xhat.data<float>(), var.data<float>(), float(eps)});
}

void batch_norm_backward_input_cuda(const Tensor& gy, const Tensor& x, const Tensor& mean, const Tensor& var,
                                    const Tensor& weight, const Tensor& sum_gy, const Tensor& sum_gy_xhat,
                                    double eps, bool batch_stats, Tensor& gx) {
  require_f32("batch_norm backward", x);
  const int64_t n = x.numel();
  if (n == 0) return;
  backward_input_kernel<<<cuda::blocks_for(n), 256, 0, cuda::stream()>>>(
      gy.data<float>(), x.data<float>(), mean.data<float>(), var.data<float>(), ptr_or_null(weight),
      batch_stats ? sum_gy.data<float>() : nullptr, batch_stats ? sum_gy_xhat.data<float>() : nullptr, float(eps),
      batch_stats, n, x.dim(-1), float(rows_of(x)), gx.data<float>());
  MTINET_CUDA_LAUNCH_CHECK("backward_input_kernel");
}

}  // namespace mtinet::kernels
