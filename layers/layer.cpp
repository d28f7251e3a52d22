#include "layers/layer.h"

#include <string>

#include "core/ops.h"
#include "layers/batch_norm2d.h"

namespace mtinet {

Sequential::Sequential(std::vector<std::shared_ptr<Layer>> layers) {
  for (auto& l : layers) push_back(std::move(l));
}

void Sequential::push_back(std::shared_ptr<Layer> layer) {
  register_module(std::to_string(layers_.size()), layer);
  layers_.push_back(std::move(layer));
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    // A BatchNorm2d followed by a ReLU runs as one fused op; the ReLU stays a child, so indices and names are
    // PyTorch's.
    auto* bn = dynamic_cast<BatchNorm2d*>(layers_[i].get());
    if (bn && i + 1 < layers_.size() && dynamic_cast<ReLU*>(layers_[i + 1].get())) {
      y = bn->forward_relu(y);
      ++i;
      continue;
    }
    y = layers_[i]->forward(y);
  }
  return y;
}

Tensor ReLU::forward(const Tensor& x) { return ops::relu(x); }

}  // namespace mtinet
