// Channel concat/slice kernels. Tensors are contiguous with channels innermost, so every op here is a strided
// copy of rows: for each pixel (all dims but the last), `count` channels move from one channel offset of the
// source to another of the destination. The kernels copy bytes and so work for any dtype; the caller checks shapes.
#pragma once
#include <vector>

#include "core/tensor.h"

namespace mtinet::kernels {

// y[..., off_k : off_k + C_k] = xs[k] for every k, off_k = C_0 + ... + C_{k-1}; y's last dim is the sum of C_k.
void concat_channels(const std::vector<Tensor>& xs, Tensor& y);
// dst[..., dst_begin : dst_begin + count] = src[..., src_begin : src_begin + count]; other channels untouched.
// Slice forward, slice backward (into zeros) and concat backward are all this copy.
void copy_channels(const Tensor& src, int64_t src_begin, Tensor& dst, int64_t dst_begin, int64_t count);

void concat_channels_cpu(const std::vector<Tensor>& xs, Tensor& y);
void copy_channels_cpu(const Tensor& src, int64_t src_begin, Tensor& dst, int64_t dst_begin, int64_t count);
void concat_channels_cuda(const std::vector<Tensor>& xs, Tensor& y);
void copy_channels_cuda(const Tensor& src, int64_t src_begin, Tensor& dst, int64_t dst_begin, int64_t count);

}  // namespace mtinet::kernels
