// Precise BN: running statistics become the plain average of the batch statistics; momenta are restored.
#include "eval/precise_bn.h"
#include "layers/batch_norm2d.h"
#include "test_util.h"

using namespace mtinet;

TEST_CASE("precise BN averages batch statistics over the given batches and restores the momentum") {
  BatchNorm2d bn(1, 0.01);
  // Three batches of two pixels each: means 1, 3, 8; unbiased variances 2, 0, 8.
  std::vector<Tensor> batches = {Tensor::from_vector<float>({1, 1, 2, 1}, {0, 2}),
                                 Tensor::from_vector<float>({1, 1, 2, 1}, {3, 3}),
                                 Tensor::from_vector<float>({1, 1, 2, 1}, {6, 10})};
  size_t next = 0;
  int64_t used = recompute_bn_statistics(
      bn, 5, [&] { return next < batches.size() ? batches[next++] : Tensor(); },
      [&](const Tensor& x) { bn.forward(x); });
  CHECK(used == 3);
  std::vector<std::pair<std::string, Tensor>> sd = bn.state_dict();
  CHECK(sd[2].first == "running_mean");
  CHECK(sd[2].second.item() == doctest::Approx(4.0));
  CHECK(sd[3].second.item() == doctest::Approx(10.0 / 3.0));
  CHECK(bn.momentum() == 0.01);
  CHECK_FALSE(bn.is_training());
}
