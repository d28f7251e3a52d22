#include "core/layout.h"

#include <cstring>

namespace mtinet {

namespace {
// Moves axis 1 of a 4-d tensor to the end ({A,B,C,D} -> {A,C,D,B}) or back (to_last = false: {A,B,C,D} ->
// {A,D,B,C}). Byte-wise, so it serves every dtype.
Tensor permute4(const Tensor& x, bool to_last) {
  MTINET_CHECK(x.ndim() == 4 && x.device() == Device::CPU, "layout conversion needs a 4-d CPU tensor, got ",
               x.describe());
  const Shape& s = x.shape();
  Shape out_shape = to_last ? Shape{s[0], s[2], s[3], s[1]} : Shape{s[0], s[3], s[1], s[2]};
  Tensor y = Tensor::empty(out_shape, x.dtype(), Device::CPU);
  size_t es = dtype_size(x.dtype());
  const char* src = static_cast<const char*>(x.raw_data());
  char* dst = static_cast<char*>(y.raw_data());
  // View the input as {A, B, M} with M = C*D when moving B last, or {A, M, B} with M = B*C when moving D second.
  int64_t a = s[0];
  int64_t b = to_last ? s[1] : s[3];
  int64_t m = to_last ? s[2] * s[3] : s[1] * s[2];
  for (int64_t i = 0; i < a; ++i)
    for (int64_t j = 0; j < b; ++j)
      for (int64_t k = 0; k < m; ++k) {
        int64_t in_idx = to_last ? (i * b + j) * m + k : (i * m + k) * b + j;
        int64_t out_idx = to_last ? (i * m + k) * b + j : (i * b + j) * m + k;
        std::memcpy(dst + out_idx * es, src + in_idx * es, es);
      }
  return y;
}
}  // namespace

Tensor nchw_to_nhwc(const Tensor& x) { return permute4(x, true); }
Tensor nhwc_to_nchw(const Tensor& x) { return permute4(x, false); }
Tensor oihw_to_ohwi(const Tensor& w) { return permute4(w, true); }
Tensor ohwi_to_oihw(const Tensor& w) { return permute4(w, false); }

}  // namespace mtinet
