// f32 CPU convolutions through oneDNN (Debian's libdnnl, the library PyTorch's CPU convolutions use), on mtinet's own
// layouts: NHWC activations and OHWI weights are handed to oneDNN as they are (format tags nhwc and ohwi), so only
// the small weight tensors are reordered into oneDNN's blocked layout, never the activations.
//
// Why: im2col + GEMM (conv2d_cpu.cpp) copies every 3x3 input nine times and runs a GEMM whose shapes (few output
// channels, K = 9*Cin) leave OpenBLAS well below the FMA peak; oneDNN's JIT kernels block the convolution directly
// for AVX2 / AVX-512 and reach 2-4x the rate on MTI-Net's shapes (docs/performance.md has the numbers).
//
// Determinism: every result is independent of the thread count. Each direction is split over images in a fixed
// way, and each image's convolution runs on one thread (a one-thread primitive), so which thread runs an image
// changes nothing; the weight gradient is summed per image and the per-image parts are added in image order.
// f64 and anything oneDNN cannot express (negative end padding) stay on the GEMM path. MTINET_ONEDNN=0 turns the
// oneDNN path off (the GEMM path then runs everything, for comparison).
#pragma once
#include <cstdint>

#include "kernels/conv/conv2d.h"

namespace mtinet::kernels {

// True when this build has oneDNN, MTINET_ONEDNN is not 0 and oneDNN can express shape s.
bool onednn_conv_usable(const Conv2dShape& s);
// The oneDNN version as "major.minor.patch", or "" when the build has none.
const char* onednn_version();

// The three directions on contiguous f32 buffers; same contracts as conv2d_*_cpu (bias may be null).
void onednn_conv_forward(const float* x, const float* w, const float* bias, const Conv2dShape& s, float* y);
void onednn_conv_backward_input(const float* gy, const float* w, const Conv2dShape& s, float* gx);
void onednn_conv_backward_weight(const float* gy, const float* x, const Conv2dShape& s, float* gw);

}  // namespace mtinet::kernels
