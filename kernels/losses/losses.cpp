// Device dispatch for the loss kernels.
#include "kernels/losses/losses.h"

#include "kernels/dispatch.h"

namespace mtinet::kernels {

void cross_entropy_forward(const Tensor& logits, const Tensor& labels, int64_t ignore_index, Tensor& loss,
                           Tensor& n_valid) {
  MTINET_ON_DEVICE(logits.device(), cross_entropy_forward, logits, labels, ignore_index, loss, n_valid);
}
void cross_entropy_backward(const Tensor& logits, const Tensor& labels, int64_t ignore_index, const Tensor& n_valid,
                            const Tensor& grad_loss, Tensor& grad_logits) {
  MTINET_ON_DEVICE(logits.device(), cross_entropy_backward, logits, labels, ignore_index, n_valid, grad_loss,
                   grad_logits);
}

void masked_l1_forward(const Tensor& pred, const Tensor& label, double invalid_value, Tensor& loss, Tensor& n_valid) {
  MTINET_ON_DEVICE(pred.device(), masked_l1_forward, pred, label, invalid_value, loss, n_valid);
}
void masked_l1_backward(const Tensor& pred, const Tensor& label, double invalid_value, const Tensor& n_valid,
                        const Tensor& grad_loss, Tensor& grad_pred) {
  MTINET_ON_DEVICE(pred.device(), masked_l1_backward, pred, label, invalid_value, n_valid, grad_loss, grad_pred);
}

void normals_l1_forward(const Tensor& pred, const Tensor& label, Tensor& loss, Tensor& n_valid) {
  MTINET_ON_DEVICE(pred.device(), normals_l1_forward, pred, label, loss, n_valid);
}
void normals_l1_backward(const Tensor& pred, const Tensor& label, const Tensor& n_valid, const Tensor& grad_loss,
                         Tensor& grad_pred) {
  MTINET_ON_DEVICE(pred.device(), normals_l1_backward, pred, label, n_valid, grad_loss, grad_pred);
}

void balanced_bce_forward(const Tensor& logits, const Tensor& labels, std::optional<double> pos_weight, Tensor& loss,
                          Tensor& weight) {
  MTINET_ON_DEVICE(logits.device(), balanced_bce_forward, logits, labels, pos_weight, loss, weight);
}
void balanced_bce_backward(const Tensor& logits, const Tensor& labels, const Tensor& weight, const Tensor& grad_loss,
                           Tensor& grad_logits) {
  MTINET_ON_DEVICE(logits.device(), balanced_bce_backward, logits, labels, weight, grad_loss, grad_logits);
}

}  // namespace mtinet::kernels
