#include "layers/layer.h"

#include <string>

#include "core/ops.h"

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
  for (auto& l : layers_) y = l->forward(y);
  return y;
}

Tensor ReLU::forward(const Tensor& x) { return ops::relu(x); }

}  // namespace mtinet
