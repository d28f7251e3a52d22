// CUDA channel copies: a grid-stride kernel over (pixel, unit) pairs, where a unit is the widest word (16, 8, 4, 2
// or 1 bytes) that divides every offset and pitch of the copy, so wide channel blocks move as 16-byte vectors.
// Byte copies work for any dtype; concat launches one copy per input.
#include <cstdint>

#include "core/cuda_runtime.h"
#include "kernels/channels/channels.h"

namespace mtinet::kernels {

namespace {
// dst[r * dst_pitch + k] = src[r * src_pitch + k] for r < rows, k < units (pitches in units).
template <class U>
__global__ void copy_rows_kernel(const U* __restrict__ src, int64_t src_pitch, U* __restrict__ dst,
                                 int64_t dst_pitch, int64_t rows, int64_t units) {
  const int64_t n = rows * units;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = i / units, k = i - r * units;
    dst[r * dst_pitch + k] = src[r * src_pitch + k];
  }
}

template <class U>
void launch_copy_rows(const char* src, int64_t src_pitch, char* dst, int64_t dst_pitch, int64_t rows,
                      int64_t row_bytes) {
  const int64_t w = int64_t(sizeof(U));
  const int64_t n = rows * (row_bytes / w);
  copy_rows_kernel<U><<<cuda::blocks_for(n), 256, 0, cuda::stream()>>>(
      reinterpret_cast<const U*>(src), src_pitch / w, reinterpret_cast<U*>(dst), dst_pitch / w, rows, row_bytes / w);
  MTINET_CUDA_LAUNCH_CHECK("copy_rows_kernel");
}

// Strided byte copy of `rows` rows of `row_bytes` (pitches in bytes), in the widest unit the alignment allows.
void copy_rows(const char* src, int64_t src_pitch, char* dst, int64_t dst_pitch, int64_t rows, int64_t row_bytes) {
  if (rows == 0 || row_bytes == 0) return;
  const uint64_t bits = uint64_t(reinterpret_cast<uintptr_t>(src)) | uint64_t(reinterpret_cast<uintptr_t>(dst)) |
                        uint64_t(src_pitch) | uint64_t(dst_pitch) | uint64_t(row_bytes);
  if (bits % 16 == 0) launch_copy_rows<uint4>(src, src_pitch, dst, dst_pitch, rows, row_bytes);
  else if (bits % 8 == 0) launch_copy_rows<uint2>(src, src_pitch, dst, dst_pitch, rows, row_bytes);
  else if (bits % 4 == 0) launch_copy_rows<uint32_t>(src, src_pitch, dst, dst_pitch, rows, row_bytes);
  else if (bits % 2 == 0) launch_copy_rows<uint16_t>(src, src_pitch, dst, dst_pitch, rows, row_bytes);
  else launch_copy_rows<uint8_t>(src, src_pitch, dst, dst_pitch, rows, row_bytes);
}

int64_t pixels_of(const Tensor& t) {
  const int64_t c = t.dim(-1);
  return c ? t.numel() / c : 0;
}
}  // namespace

void copy_channels_cuda(const Tensor& src, int64_t src_begin, Tensor& dst, int64_t dst_begin, int64_t count) {
  const int64_t es = int64_t(dtype_size(src.dtype()));
  copy_rows(static_cast<const char*>(src.raw_data()) + src_begin * es, src.dim(-1) * es,
            static_cast<char*>(dst.raw_data()) + dst_begin * es, dst.dim(-1) * es, pixels_of(dst), count * es);
}

void concat_channels_cuda(const std::vector<Tensor>& xs, Tensor& y) {
  int64_t offset = 0;
  for (const Tensor& x : xs) {
    copy_channels_cuda(x, 0, y, offset, x.dim(-1));
    offset += x.dim(-1);
  }
}

}  // namespace mtinet::kernels
