#include "model/aggregation.h"

#include <numeric>

#include "core/ops.h"

namespace mtinet {

namespace {
int64_t total(const std::vector<int64_t>& channels) {
  return std::accumulate(channels.begin(), channels.end(), int64_t(0));
}
std::shared_ptr<Sequential> fuse_layers(int64_t c, Rng& rng, double bn_momentum) {
  auto seq = std::make_shared<Sequential>();
  seq->push_back(std::make_shared<Conv2d>(Conv2dSpec{c, c, 1, 1, 0, 1, true}, rng));
  seq->push_back(std::make_shared<BatchNorm2d>(c, bn_momentum));
  seq->push_back(std::make_shared<ReLU>());
  return seq;
}
}  // namespace

Tensor concat_at_highest_resolution(const std::vector<Tensor>& xs) {
  MTINET_CHECK(!xs.empty(), "concat_at_highest_resolution: no inputs");
  const int64_t h = xs[0].dim(1), w = xs[0].dim(2);
  std::vector<Tensor> parts{xs[0]};
  for (size_t i = 1; i < xs.size(); ++i) parts.push_back(ops::resize_bilinear(xs[i], h, w));
  return ops::concat_channels(parts);
}

HighResolutionHead::HighResolutionHead(const std::vector<int64_t>& channels, int64_t outputs, Rng& rng,
                                       double bn_momentum) {
  const int64_t c = total(channels);
  last_layer_ = register_module("last_layer", fuse_layers(c, rng, bn_momentum));
  last_layer_->push_back(std::make_shared<Conv2d>(Conv2dSpec{c, outputs, 1, 1, 0, 1, true}, rng));
}

Tensor HighResolutionHead::forward(const std::vector<Tensor>& xs) {
  return last_layer_->forward(concat_at_highest_resolution(xs));
}

HighResolutionFuse::HighResolutionFuse(const std::vector<int64_t>& channels, Rng& rng, double bn_momentum) {
  last_layer_ = register_module("last_layer", fuse_layers(total(channels), rng, bn_momentum));
}

Tensor HighResolutionFuse::forward(const std::vector<Tensor>& xs) {
  return last_layer_->forward(concat_at_highest_resolution(xs));
}

}  // namespace mtinet
