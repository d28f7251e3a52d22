// CPU channel copies: one memcpy per pixel and input, OpenMP over pixels.
#include <cstdint>
#include <cstring>

#include "kernels/channels/channels.h"

namespace mtinet::kernels {

namespace {
// Number of pixels (rows of channels) in t: every dim but the last.
int64_t pixels_of(const Tensor& t) {
  int64_t c = t.dim(-1);
  return c ? t.numel() / c : 0;
}

// A row-strided byte copy: `rows` rows of `row_bytes`, source rows `src_pitch` apart, destination `dst_pitch`.
void copy_rows(const char* src, int64_t src_pitch, char* dst, int64_t dst_pitch, int64_t rows, int64_t row_bytes) {
  if (row_bytes == 0) return;
#pragma omp parallel for schedule(static) if (rows * row_bytes > (1 << 18))
  for (int64_t r = 0; r < rows; ++r) std::memcpy(dst + r * dst_pitch, src + r * src_pitch, size_t(row_bytes));
}
}  // namespace

void concat_channels_cpu(const std::vector<Tensor>& xs, Tensor& y) {
  const int64_t es = int64_t(dtype_size(y.dtype()));
  const int64_t rows = pixels_of(y);
  const int64_t y_pitch = y.dim(-1) * es;
  char* yp = static_cast<char*>(y.raw_data());
  // One pass over pixels writing each output row completely keeps the destination row hot in cache.
#pragma omp parallel for schedule(static) if (y.nbytes() > (1 << 18))
  for (int64_t r = 0; r < rows; ++r) {
    char* out = yp + r * y_pitch;
    for (const Tensor& x : xs) {
      const int64_t bytes = x.dim(-1) * es;
      if (bytes == 0) continue;
      std::memcpy(out, static_cast<const char*>(x.raw_data()) + r * bytes, size_t(bytes));
      out += bytes;
    }
  }
}

void copy_channels_cpu(const Tensor& src, int64_t src_begin, Tensor& dst, int64_t dst_begin, int64_t count) {
  const int64_t es = int64_t(dtype_size(src.dtype()));
  copy_rows(static_cast<const char*>(src.raw_data()) + src_begin * es, src.dim(-1) * es,
            static_cast<char*>(dst.raw_data()) + dst_begin * es, dst.dim(-1) * es, pixels_of(dst), count * es);
}

}  // namespace mtinet::kernels
