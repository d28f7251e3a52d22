// ParameterSet: the parameters of a model packed into one contiguous buffer, with their gradients in a second one.
// Zeroing, norms, clipping, optimiser steps and checkpoint I/O then work on two flat tensors instead of hundreds.
//
// Packing rebinds each parameter's TensorImpl to a view of the flat buffer, so every holder of the Tensor (the
// layer that owns it, the state_dict) sees the move without being told.
#pragma once
#include <vector>

#include "core/tensor.h"

namespace mtinet {

class ParameterSet {
 public:
  ParameterSet() = default;
  // All params must share one dtype and device; their current values are copied in. Params are marked
  // requires_grad and get gradient views into the (zeroed) flat gradient buffer.
  explicit ParameterSet(const std::vector<Tensor>& params);

  const std::vector<Tensor>& params() const { return params_; }
  const Tensor& flat_params() const { return flat_params_; }
  const Tensor& flat_grads() const { return flat_grads_; }
  // Where each parameter starts in the flat buffers (elements), in the order of params().
  const std::vector<int64_t>& offsets() const { return offsets_; }
  int64_t numel() const { return flat_params_.defined() ? flat_params_.numel() : 0; }

  void zero_grad();
  // Moves both flat buffers (and thereby every parameter and gradient view) to another device.
  void to(Device d);

 private:
  void rebind();  // points every param/grad impl at its slice of the flat buffers
  std::vector<Tensor> params_;
  std::vector<int64_t> offsets_;
  Tensor flat_params_;
  Tensor flat_grads_;
};

}  // namespace mtinet
