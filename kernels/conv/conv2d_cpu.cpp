// CPU convolution: im2col + CBLAS GEMM, templated on float/double. f32 goes to oneDNN when the build has it
// (kernels/conv/conv2d_onednn.h); this path then runs f64 and the shapes oneDNN cannot express.
//
// A "column" row holds one output pixel's receptive field in OHWI weight order (kh, kw, ci), so with NHWC data
//   forward          y[P, Cout]   = col[P, K] * w[Cout, K]^T
//   backward input   gcol[P, K]   = gy[P, Cout] * w[Cout, K], then col2im sums gcol back onto the input pixels
//   backward weight  gw[Cout, K] += gy[P, Cout]^T * col[P, K]
// with P output pixels and K = KH*KW*Cin. Several images share one GEMM when their columns fit a fixed budget
// (small deep feature maps make poor GEMMs one image at a time); 1x1 stride-1 unpadded convolutions skip im2col.
// The GEMMs are threaded by mtinet, not by OpenBLAS (gemm_parallel_cpu.h).
#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/conv/conv2d.h"
#include "kernels/conv/conv2d_onednn.h"
#include "kernels/conv/gemm_parallel_cpu.h"
#include "kernels/dispatch.h"

namespace mtinet::kernels {

namespace {

// Largest column buffer, in elements (64 MiB of f32), unless a single image needs more.
constexpr int64_t kColumnBudget = int64_t(1) << 24;
// Below this many elements of work a loop stays on one thread: OpenMP's start-up would cost more.
constexpr int64_t kParallelWork = 32768;

// The column buffer. Up to kColumnBudget elements it is a per-thread buffer kept across calls, so a training step
// does not map (and page-fault) fresh memory for every convolution; a larger one-image column is a one-off
// allocation rather than memory pinned for the rest of the run.
template <class T>
class ColumnBuffer {
 public:
  explicit ColumnBuffer(int64_t elements) {
    const size_t bytes = size_t(elements) * sizeof(T);
    if (elements > kColumnBudget) {
      one_off_.reset(new unsigned char[bytes]);
      data_ = reinterpret_cast<T*>(one_off_.get());
      return;
    }
    thread_local std::unique_ptr<unsigned char[]> cached;
    thread_local size_t cached_bytes = 0;
    if (bytes > cached_bytes) {
      cached.reset();  // free before allocating the larger buffer
      cached.reset(new unsigned char[bytes]);
      cached_bytes = bytes;
    }
    data_ = reinterpret_cast<T*>(cached.get());
  }
  T* get() const { return data_; }

 private:
  std::unique_ptr<unsigned char[]> one_off_;
  T* data_ = nullptr;
};

int64_t images_per_gemm(const Conv2dShape& s) {
  int64_t per_image = std::max<int64_t>(s.out_pixels() * s.patch_size(), 1);
  return std::clamp<int64_t>(kColumnBudget / per_image, 1, std::max<int64_t>(s.n, 1));
}

// col[r, (kh, kw, ci)] = x[oh*stride - pad + kh*dil, ow*stride - pad + kw*dil, ci] (zero outside the image) for
// the output pixels r of `images` consecutive images.
template <class T>
void im2col(const T* x, int64_t images, const Conv2dShape& s, T* col) {
  const int64_t k = s.patch_size(), p = s.out_pixels(), image_size = s.h * s.w * s.cin;
  const int64_t rows = images * p;
#pragma omp parallel for schedule(static) if (rows * k > kParallelWork)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t img = r / p, oh = (r % p) / s.wo, ow = r % s.wo;
    const T* src_img = x + img * image_size;
    T* row = col + r * k;
    for (int64_t i = 0; i < s.kh; ++i) {
      const int64_t ih = oh * s.stride - s.padding + i * s.dilation;
      for (int64_t j = 0; j < s.kw; ++j) {
        const int64_t iw = ow * s.stride - s.padding + j * s.dilation;
        T* dst = row + (i * s.kw + j) * s.cin;
        if (ih < 0 || ih >= s.h || iw < 0 || iw >= s.w) {
          std::fill(dst, dst + s.cin, T(0));
        } else {
          std::copy_n(src_img + (ih * s.w + iw) * s.cin, s.cin, dst);
        }
      }
    }
  }
}

// Output index o along one axis whose tap `tap` reads input index `in` (o*stride - pad + tap*dil = in), or -1.
inline int64_t source_output(int64_t in, int64_t tap, int64_t out_size, const Conv2dShape& s) {
  const int64_t num = in + s.padding - tap * s.dilation;
  if (num < 0 || num % s.stride != 0) return -1;
  const int64_t o = num / s.stride;
  return o < out_size ? o : -1;
}

// The adjoint of im2col: gx[pixel, ci] = sum of every column entry that copied x[pixel, ci]. Gathered per input
// pixel (one writer per element, taps in a fixed order), so the sum is deterministic and needs no atomics.
template <class T>
void col2im(const T* gcol, int64_t images, const Conv2dShape& s, T* gx) {
  const int64_t k = s.patch_size(), p = s.out_pixels(), hw = s.h * s.w;
  const int64_t pixels = images * hw;
#pragma omp parallel for schedule(static) if (pixels * s.kh * s.kw * s.cin > kParallelWork)
  for (int64_t q = 0; q < pixels; ++q) {
    const int64_t img = q / hw, ih = (q % hw) / s.w, iw = q % s.w;
    const T* src_img = gcol + img * p * k;
    T* dst = gx + q * s.cin;
    std::fill(dst, dst + s.cin, T(0));
    for (int64_t i = 0; i < s.kh; ++i) {
      const int64_t oh = source_output(ih, i, s.ho, s);
      if (oh < 0) continue;
      for (int64_t j = 0; j < s.kw; ++j) {
        const int64_t ow = source_output(iw, j, s.wo, s);
        if (ow < 0) continue;
        const T* src = src_img + (oh * s.wo + ow) * k + (i * s.kw + j) * s.cin;
        for (int64_t c = 0; c < s.cin; ++c) dst[c] += src[c];
      }
    }
  }
}

// Every row of y {rows, c} set to b.
template <class T>
void broadcast_rows(const T* b, int64_t rows, int64_t c, T* y) {
#pragma omp parallel for schedule(static) if (rows * c > kParallelWork)
  for (int64_t r = 0; r < rows; ++r) std::copy_n(b, c, y + r * c);
}

template <class T>
void forward(const T* x, const T* w, const T* bias, const Conv2dShape& s, T* y) {
  const int64_t k = s.patch_size(), p = s.out_pixels();
  T beta = 0;
  if (bias) {  // the GEMM then adds onto the bias (beta = 1) instead of a second pass over y
    broadcast_rows(bias, s.n * p, s.cout, y);
    beta = 1;
  }
  if (s.is_pointwise()) {
    gemm_split_rows(true, s.n * p, s.cout, s.cin, T(1), x, s.cin, w, s.cin, beta, y, s.cout);
    return;
  }
  const int64_t chunk = images_per_gemm(s);
  ColumnBuffer<T> col(chunk * p * k);  // reused by every chunk
  for (int64_t n0 = 0; n0 < s.n; n0 += chunk) {
    const int64_t nb = std::min(chunk, s.n - n0);
    im2col(x + n0 * s.h * s.w * s.cin, nb, s, col.get());
    gemm_split_rows(true, nb * p, s.cout, k, T(1), col.get(), k, w, k, beta, y + n0 * p * s.cout, s.cout);
  }
}

template <class T>
void backward_input(const T* gy, const T* w, const Conv2dShape& s, T* gx) {
  const int64_t k = s.patch_size(), p = s.out_pixels();
  if (s.is_pointwise()) {
    gemm_split_rows(false, s.n * p, s.cin, s.cout, T(1), gy, s.cout, w, s.cin, T(0), gx, s.cin);
    return;
  }
  const int64_t chunk = images_per_gemm(s);
  ColumnBuffer<T> gcol(chunk * p * k);
  for (int64_t n0 = 0; n0 < s.n; n0 += chunk) {
    const int64_t nb = std::min(chunk, s.n - n0);
    gemm_split_rows(false, nb * p, k, s.cout, T(1), gy + n0 * p * s.cout, s.cout, w, k, T(0), gcol.get(), k);
    col2im(gcol.get(), nb, s, gx + n0 * s.h * s.w * s.cin);
  }
}

template <class T>
void backward_weight(const T* gy, const T* x, const Conv2dShape& s, T* gw) {
  const int64_t k = s.patch_size(), p = s.out_pixels();
  if (s.is_pointwise()) {
    gemm_at_b_split_inner(s.cout, s.cin, s.n * p, gy, s.cout, x, s.cin, T(0), gw, s.cin);
    return;
  }
  const int64_t chunk = images_per_gemm(s);
  ColumnBuffer<T> col(chunk * p * k);
  for (int64_t n0 = 0; n0 < s.n; n0 += chunk) {
    const int64_t nb = std::min(chunk, s.n - n0);
    im2col(x + n0 * s.h * s.w * s.cin, nb, s, col.get());
    // The first chunk overwrites gw, later ones accumulate: a fixed order over images.
    gemm_at_b_split_inner(s.cout, k, nb * p, gy + n0 * p * s.cout, s.cout, col.get(), k, T(n0 == 0 ? 0 : 1), gw, k);
  }
}

template <class T>
void add_rows(const T* b, int64_t rows, int64_t c, T* y) {
#pragma omp parallel for schedule(static) if (rows * c > kParallelWork)
  for (int64_t r = 0; r < rows; ++r) {
    T* row = y + r * c;
    for (int64_t j = 0; j < c; ++j) row[j] += b[j];
  }
}

// Column sums of gy {rows, c}: fixed blocks of rows (independent of the thread count) are summed in parallel in
// double, then the block partials are added in block order.
template <class T>
void sum_rows(const T* gy, int64_t rows, int64_t c, T* gb) {
  constexpr int64_t kRowsPerBlock = 1024;
  const int64_t blocks = (rows + kRowsPerBlock - 1) / kRowsPerBlock;
  std::vector<double> partial(size_t(blocks * c), 0.0);
#pragma omp parallel for schedule(static) if (rows * c > kParallelWork)
  for (int64_t blk = 0; blk < blocks; ++blk) {
    double* acc = partial.data() + blk * c;
    const int64_t end = std::min(rows, (blk + 1) * kRowsPerBlock);
    for (int64_t r = blk * kRowsPerBlock; r < end; ++r) {
      const T* row = gy + r * c;
      for (int64_t j = 0; j < c; ++j) acc[j] += double(row[j]);
    }
  }
  for (int64_t j = 0; j < c; ++j) {
    double total = 0;
    for (int64_t blk = 0; blk < blocks; ++blk) total += partial[size_t(blk * c + j)];
    gb[j] = T(total);
  }
}

}  // namespace

void conv2d_forward_cpu(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dShape& s, Tensor& y) {
  if (x.dtype() == DType::F32 && onednn_conv_usable(s)) {
    return onednn_conv_forward(x.data<float>(), w.data<float>(), bias.defined() ? bias.data<float>() : nullptr, s,
                               y.data<float>());
  }
  MTINET_FLOAT_TYPES(x.dtype(), T,
                     forward(x.data<T>(), w.data<T>(), bias.defined() ? bias.data<T>() : nullptr, s, y.data<T>()));
}

void conv2d_backward_input_cpu(const Tensor& gy, const Tensor& w, const Conv2dShape& s, Tensor& gx) {
  if (gy.dtype() == DType::F32 && onednn_conv_usable(s)) {
    return onednn_conv_backward_input(gy.data<float>(), w.data<float>(), s, gx.data<float>());
  }
  MTINET_FLOAT_TYPES(gy.dtype(), T, backward_input(gy.data<T>(), w.data<T>(), s, gx.data<T>()));
}

void conv2d_backward_weight_cpu(const Tensor& gy, const Tensor& x, const Conv2dShape& s, Tensor& gw) {
  if (gy.dtype() == DType::F32 && onednn_conv_usable(s)) {
    return onednn_conv_backward_weight(gy.data<float>(), x.data<float>(), s, gw.data<float>());
  }
  MTINET_FLOAT_TYPES(gy.dtype(), T, backward_weight(gy.data<T>(), x.data<T>(), s, gw.data<T>()));
}

void bias_add_cpu(Tensor& y, const Tensor& b) {
  const int64_t c = y.dim(-1);
  MTINET_FLOAT_TYPES(y.dtype(), T, add_rows(b.data<T>(), y.numel() / c, c, y.data<T>()));
}

void bias_backward_cpu(const Tensor& gy, Tensor& gb) {
  const int64_t c = gy.dim(-1);
  MTINET_FLOAT_TYPES(gy.dtype(), T, sum_rows(gy.data<T>(), gy.numel() / c, c, gb.data<T>()));
}

}  // namespace mtinet::kernels
