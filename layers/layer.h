// Layer: a Module with one input and one output, so that layers can be chained in a Sequential.
#pragma once
#include <memory>
#include <vector>

#include "layers/module.h"

namespace mtinet {

class Layer : public Module {
 public:
  virtual Tensor forward(const Tensor& x) = 0;
  Tensor operator()(const Tensor& x) { return forward(x); }
};

// Children named "0", "1", ... applied in order (PyTorch's nn.Sequential naming).
class Sequential : public Layer {
 public:
  Sequential() = default;
  explicit Sequential(std::vector<std::shared_ptr<Layer>> layers);
  void push_back(std::shared_ptr<Layer> layer);
  Tensor forward(const Tensor& x) override;
  size_t size() const { return layers_.size(); }
  Layer& operator[](size_t i) { return *layers_.at(i); }

 private:
  std::vector<std::shared_ptr<Layer>> layers_;
};

class ReLU : public Layer {
 public:
  Tensor forward(const Tensor& x) override;
};

}  // namespace mtinet
