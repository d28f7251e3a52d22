// Loss kernels: cross entropy, masked L1, normals L1, balanced BCE. Each forward writes the 0-d loss (the input's
// dtype) and a 0-d f64 statistic its backward needs (the number of valid pixels/elements, or BCE's weight w), both
// on the input's device, so no value is read back to the host. Each backward multiplies by the 0-d upstream
// gradient, also read on the device. Sums are deterministic: a fixed order on both backends, whatever the thread
// or block count. All tensors contiguous; kernels/losses/losses_ops.cpp checks shapes, dtypes and devices.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "core/tensor.h"

namespace mtinet::kernels {

// logits {..., C}, labels {...} i64. n_valid: pixels whose label is not ignore_index. A label outside [0, C) that is
// not ignore_index throws on CPU naming the labels tensor and the value; on CUDA it makes the loss NaN (throwing
// too when the debug-sync mode is on: checking always would need a host synchronisation).
void cross_entropy_forward(const Tensor& logits, const Tensor& labels, int64_t ignore_index, Tensor& loss,
                           Tensor& n_valid);
void cross_entropy_backward(const Tensor& logits, const Tensor& labels, int64_t ignore_index, const Tensor& n_valid,
                            const Tensor& grad_loss, Tensor& grad_logits);

// n_valid: elements whose label != invalid_value.
void masked_l1_forward(const Tensor& pred, const Tensor& label, double invalid_value, Tensor& loss, Tensor& n_valid);
void masked_l1_backward(const Tensor& pred, const Tensor& label, double invalid_value, const Tensor& n_valid,
                        const Tensor& grad_loss, Tensor& grad_pred);

// pred, label {..., 3}. n_valid: pixels whose label is not the zero vector.
void normals_l1_forward(const Tensor& pred, const Tensor& label, Tensor& loss, Tensor& n_valid);
void normals_l1_backward(const Tensor& pred, const Tensor& label, const Tensor& n_valid, const Tensor& grad_loss,
                         Tensor& grad_pred);

// weight: the w used, pos_weight or the fraction of negative labels.
void balanced_bce_forward(const Tensor& logits, const Tensor& labels, std::optional<double> pos_weight, Tensor& loss,
                          Tensor& weight);
void balanced_bce_backward(const Tensor& logits, const Tensor& labels, const Tensor& weight, const Tensor& grad_loss,
                           Tensor& grad_logits);

// Throws naming `what` (the labels tensor) and the first label outside [0, classes) that is not ignore_index.
// Host memory; used by the CPU forward and by the CUDA forward in debug-sync mode.
void check_class_labels(const int64_t* labels, int64_t n, int64_t classes, int64_t ignore_index,
                        const std::string& what);

// Per-device implementations behind the entry points above.
void cross_entropy_forward_cpu(const Tensor& logits, const Tensor& labels, int64_t ignore_index, Tensor& loss,
                               Tensor& n_valid);
void cross_entropy_backward_cpu(const Tensor& logits, const Tensor& labels, int64_t ignore_index,
                                const Tensor& n_valid, const Tensor& grad_loss, Tensor& grad_logits);
void masked_l1_forward_cpu(const Tensor& pred, const Tensor& label, double invalid_value, Tensor& loss,
                           Tensor& n_valid);
void masked_l1_backward_cpu(const Tensor& pred, const Tensor& label, double invalid_value, const Tensor& n_valid,
                            const Tensor& grad_loss, Tensor& grad_pred);
void normals_l1_forward_cpu(const Tensor& pred, const Tensor& label, Tensor& loss, Tensor& n_valid);
void normals_l1_backward_cpu(const Tensor& pred, const Tensor& label, const Tensor& n_valid, const Tensor& grad_loss,
                             Tensor& grad_pred);
void balanced_bce_forward_cpu(const Tensor& logits, const Tensor& labels, std::optional<double> pos_weight,
                              Tensor& loss, Tensor& weight);
void balanced_bce_backward_cpu(const Tensor& logits, const Tensor& labels, const Tensor& weight,
                               const Tensor& grad_loss, Tensor& grad_logits);

void cross_entropy_forward_cuda(const Tensor& logits, const Tensor& labels, int64_t ignore_index, Tensor& loss,
                                Tensor& n_valid);
void cross_entropy_backward_cuda(const Tensor& logits, const Tensor& labels, int64_t ignore_index,
                                 const Tensor& n_valid, const Tensor& grad_loss, Tensor& grad_logits);
void masked_l1_forward_cuda(const Tensor& pred, const Tensor& label, double invalid_value, Tensor& loss,
                            Tensor& n_valid);
void masked_l1_backward_cuda(const Tensor& pred, const Tensor& label, double invalid_value, const Tensor& n_valid,
                             const Tensor& grad_loss, Tensor& grad_pred);
void normals_l1_forward_cuda(const Tensor& pred, const Tensor& label, Tensor& loss, Tensor& n_valid);
void normals_l1_backward_cuda(const Tensor& pred, const Tensor& label, const Tensor& n_valid, const Tensor& grad_loss,
                              Tensor& grad_pred);
void balanced_bce_forward_cuda(const Tensor& logits, const Tensor& labels, std::optional<double> pos_weight,
                               Tensor& loss, Tensor& weight);
void balanced_bce_backward_cuda(const Tensor& logits, const Tensor& labels, const Tensor& weight,
                                const Tensor& grad_loss, Tensor& grad_logits);

}  // namespace mtinet::kernels
