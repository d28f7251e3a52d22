#include "eval/precise_bn.h"

#include <vector>

#include "core/autograd.h"
#include "layers/batch_norm2d.h"

namespace mtinet {

int64_t recompute_bn_statistics(Module& model, int64_t batches, const std::function<Tensor()>& next_images,
                                const std::function<void(const Tensor&)>& forward) {
  std::vector<BatchNorm2d*> norms;
  model.for_each_module([&](Module& m) {
    if (auto* bn = dynamic_cast<BatchNorm2d*>(&m)) norms.push_back(bn);
  });
  std::vector<double> saved;
  for (BatchNorm2d* bn : norms) saved.push_back(bn->momentum());
  NoGradGuard no_grad;
  model.train();
  int64_t used = 0;
  for (; used < batches; ++used) {
    Tensor images = next_images();
    if (!images.defined()) break;
    // Momentum 1/k makes the k-th update running = mean of the first k batch statistics.
    for (BatchNorm2d* bn : norms) bn->set_momentum(1.0 / double(used + 1));
    forward(images);
  }
  for (size_t i = 0; i < norms.size(); ++i) norms[i]->set_momentum(saved[i]);
  model.eval();
  return used;
}

}  // namespace mtinet
