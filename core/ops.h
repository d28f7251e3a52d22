// The differentiable op API. Every op works on CPU (f32, f64) and CUDA (f32), records itself on the autograd
// tape, and has its backward beside its forward in kernels/<family>/<family>_ops.cpp, next to the family's compute
// (kernels/<family>/: kernel API, CPU loops, CUDA kernels, shared math).
// Activations are NHWC {N, H, W, C}; conv weights OHWI {O, KH, KW, I}; losses return 0-d tensors (shape {}).
#pragma once
#include <functional>
#include <optional>
#include <vector>

#include "core/tensor.h"

namespace mtinet::ops {

// ---- element-wise (kernels/elementwise/elementwise_ops.cpp) ----
Tensor relu(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor add(const Tensor& a, const Tensor& b);  // equal shapes
Tensor mul(const Tensor& a, const Tensor& b);  // equal shapes
Tensor scale(const Tensor& x, double s);       // s * x
Tensor reshape(const Tensor& x, const Shape& shape);  // same elements, new shape

// ---- convolution and linear (kernels/conv/conv_ops.cpp) ----
struct Conv2dOptions {
  int stride = 1;
  int padding = 0;
  int dilation = 1;
};
// x {N,H,W,Cin}, w {Cout,KH,KW,Cin}, bias {Cout} or undefined -> {N,Ho,Wo,Cout}, Ho = (H+2p-d(KH-1)-1)/s+1.
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dOptions& opt = {});
// x {N,I}, w {O,I} (PyTorch layout), bias {O} or undefined -> {N,O}.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias);

// ---- batch normalisation (kernels/batch_norm/batch_norm_ops.cpp) ----
// Training: normalises with the batch statistics (biased variance) and, when running stats are given, updates them
// in place: running = (1-momentum)*running + momentum*batch, running_var with the unbiased variance (PyTorch).
// Eval: normalises with the running statistics. weight/bias {C} (affine; may be undefined for no affine).
Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                  const Tensor& running_var, bool training, double momentum, double eps);
// y = relu(batch_norm(x, ...) + residual) in one op, the conv -> BN -> (+ residual) -> ReLU tail of every HRNet
// unit: residual (x's shape, dtype and device) may be undefined (nothing added) and `relu` false (no ReLU), so
// batch_norm is batch_norm_relu(..., Tensor(), false). Same statistics and running-statistics update as batch_norm,
// one pass for the normalisation, add and ReLU; its backward takes the ReLU mask from the saved output, gives the
// residual its gradient and needs the BatchNorm reduction and the input-gradient pass only. On the CPU its results
// are the bits of batch_norm, add and relu composed.
Tensor batch_norm_relu(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                       const Tensor& running_var, bool training, double momentum, double eps, const Tensor& residual,
                       bool relu);
// Synchronised BatchNorm (data-parallel training): while a function is set, training-mode batch_norm normalises with
// the statistics of all ranks' batches together, and its backward pass sums over them likewise. The function
// replaces every value of the vector by its mean over the ranks (each rank calls it at the same points, with vectors
// of the same length: every rank's batch must have as many values per channel) and returns the number of ranks.
// The weight and bias gradients stay each rank's own (the gradient all-reduce averages them). Not thread-safe: set
// it around a step's forward and backward passes; an empty function (the default) normalises each batch alone.
using RankMean = std::function<int(std::vector<double>&)>;
void set_batch_norm_sync(RankMean mean_over_ranks);

// ---- channels (kernels/channels/channels_ops.cpp) ----
Tensor concat_channels(const std::vector<Tensor>& xs);            // along the last dim
Tensor slice_channels(const Tensor& x, int64_t begin, int64_t end);  // channels [begin, end) of the last dim
// Reorders channels from groups-major to members-major: channel g*M + m of the result is channel m*G + g of x, for
// x with G*M channels (G groups of M). interleave_channels(x, N, C) turns a task-major concatenation of N tasks x C
// channels into channel-major order; interleave_channels(y, C, N) turns it back. Made of slices and a concat.
Tensor interleave_channels(const Tensor& x, int64_t groups, int64_t members);

// ---- bilinear resize, PyTorch align_corners=False (kernels/resize_bilinear/resize_bilinear_ops.cpp) ----
// By output size: source scale = in/out.
Tensor resize_bilinear(const Tensor& x, int64_t out_h, int64_t out_w);
// By scale factor: output = floor(in*scale), source scale = 1/scale (PyTorch's scale_factor path).
Tensor resize_bilinear_scale(const Tensor& x, double scale_h, double scale_w);

// ---- pooling and channel gating, for squeeze-and-excitation (kernels/channel_gating/channel_gating_ops.cpp) ----
Tensor global_avg_pool(const Tensor& x);                 // {N,H,W,C} -> {N,C}
Tensor channel_scale(const Tensor& x, const Tensor& s);  // {N,H,W,C} * {N,C} broadcast over H,W (SE gating)

// ---- grouped softmax (kernels/grouped_softmax/grouped_softmax_ops.cpp) ----
// Softmax over each group of `group` adjacent channels of the last dim (MTI-Net's FPM mask).
Tensor grouped_softmax(const Tensor& x, int64_t group);

// ---- reductions (kernels/reduce/reduce_ops.cpp) ----
Tensor sum(const Tensor& x);             // -> {}
Tensor mean(const Tensor& x);            // -> {}
Tensor argmax_channels(const Tensor& x); // {N,H,W,C} -> {N,H,W} i64, first maximum wins; not differentiable

// ---- losses (kernels/losses/losses_ops.cpp); each returns a 0-d tensor ----
// Log-softmax + NLL over channels; labels {N,H,W} i64; pixels labelled ignore_index are skipped; mean over the rest
// (0 when every pixel is ignored).
Tensor cross_entropy(const Tensor& logits, const Tensor& labels, int64_t ignore_index = 255);
// L1 over elements whose label != invalid_value, mean over them (0 when none is valid). pred/label equal shapes.
Tensor masked_l1(const Tensor& pred, const Tensor& label, double invalid_value = 0.0);
// pred {N,H,W,3} L2-normalised per pixel (eps 1e-12, as F.normalize), then L1 against label summed over the valid
// pixels' elements / (3 * valid pixels); a pixel is valid when its label is not the zero vector.
Tensor normals_l1(const Tensor& pred, const Tensor& label);
// Balanced BCE with logits. Labels >= 0.5 are positive. Loss = (w*sum_pos + (1-w)*sum_neg)/numel with the per-pixel
// BCE terms; w = pos_weight when given, else the fraction of negative labels in the batch.
Tensor balanced_bce(const Tensor& logits, const Tensor& labels, std::optional<double> pos_weight);

// ---- upsampled losses (kernels/losses/losses_ops.cpp, kernels/losses/upsampled_losses*) ----
// loss(resize_bilinear(pred, H, W), label) with H x W the label's size, without storing the upsampled prediction:
// each label pixel's prediction is interpolated on the fly and the gradient goes straight to the low-resolution
// pred {N,h,w,C}. Same values and gradients as the composition (on the CPU, the same bits); deep supervision uses them.
// labels {N,H,W} i64.
Tensor upsampled_cross_entropy(const Tensor& logits, const Tensor& labels, int64_t ignore_index = 255);
// label {N,H,W,C}, pred's dtype.
Tensor upsampled_masked_l1(const Tensor& pred, const Tensor& label, double invalid_value = 0.0);
// pred {N,h,w,3}, label {N,H,W,3}.
Tensor upsampled_normals_l1(const Tensor& pred, const Tensor& label);
// labels {N,H,W,C}, pred's dtype.
Tensor upsampled_balanced_bce(const Tensor& logits, const Tensor& labels, std::optional<double> pos_weight);

}  // namespace mtinet::ops
