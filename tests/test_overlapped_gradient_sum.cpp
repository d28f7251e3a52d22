// When backward declares a leaf's gradient final (core/autograd.h's BackwardObserver), and the gradient buckets that
// data-parallel training all-reduces during backward (train/overlapped_gradient_sum.h), in a world of one process:
// the bucket bookkeeping runs, the sums themselves are no-ops (tests/mpi/overlap.sh covers two ranks).
#include <map>

#include "core/autograd.h"
#include "core/ops.h"
#include "core/parameter_set.h"
#include "test_util.h"
#include "train/overlapped_gradient_sum.h"

using namespace mtinet;

namespace {

// Snapshots each leaf's gradient at the moment backward calls it final.
class Recorder : public BackwardObserver {
 public:
  void leaf_ready(const TensorImpl& leaf) override {
    ++named[&leaf];
    snapshot[&leaf] = Tensor(leaf.grad).clone().to_double_vector();
  }
  void node_done() override { ++nodes; }
  std::map<const TensorImpl*, int> named;
  std::map<const TensorImpl*, std::vector<double>> snapshot;
  int nodes = 0;
};

// A chain of layers whose parameter c is used twice, early and late in the backward pass, and whose parameter
// `unused` is in no node: loss = sum(sigmoid(sigmoid(x * a) * b + c) * c).
Tensor chain_loss(const Tensor& x, const Tensor& a, const Tensor& b, const Tensor& c) {
  Tensor h = ops::sigmoid(ops::mul(x, a));
  Tensor k = ops::sigmoid(ops::add(ops::mul(h, b), c));
  return ops::sum(ops::mul(k, c));
}

}  // namespace

TEST_CASE("backward names each leaf once, when no later node adds to its gradient") {
  Tensor x = Tensor::from_vector<double>({3}, {0.5, -1.0, 2.0});
  Tensor a = Tensor::from_vector<double>({3}, {0.3, 0.7, -0.2}).set_requires_grad(true);
  Tensor b = Tensor::from_vector<double>({3}, {1.1, -0.4, 0.9}).set_requires_grad(true);
  Tensor c = Tensor::from_vector<double>({3}, {0.2, 0.6, -1.3}).set_requires_grad(true);
  Tensor unused = Tensor::from_vector<double>({1}, {4.0}).set_requires_grad(true);
  Recorder rec;
  {
    BackwardObserverScope watch(&rec);
    chain_loss(x, a, b, c).backward();
  }
  CHECK(rec.named.size() == 3);
  for (const Tensor* p : {&a, &b, &c}) {
    REQUIRE(rec.named.count(&p->impl()) == 1);
    CHECK(rec.named[&p->impl()] == 1);
    // c gets two contributions: named after the first one, its snapshot would miss the second.
    CHECK(rec.snapshot[&p->impl()] == p->grad().to_double_vector());
  }
  CHECK(rec.named.count(&unused.impl()) == 0);
  CHECK(rec.nodes == 7);  // mul, sigmoid, mul, add, sigmoid, mul, sum
  // Outside the scope nothing is observed.
  chain_loss(x, a, b, c).backward();
  CHECK(rec.nodes == 7);
}

TEST_CASE("gradient buckets: reverse parameter order, started during backward, gradients unchanged") {
  auto make = [] {
    return std::vector<Tensor>{Tensor::from_vector<double>({3}, {0.3, 0.7, -0.2}),
                               Tensor::from_vector<double>({3}, {1.1, -0.4, 0.9}),
                               Tensor::from_vector<double>({3}, {0.2, 0.6, -1.3}),
                               Tensor::from_vector<double>({3}, {4.0, -1.0, 0.5})};  // reached by no node
  };
  Tensor x = Tensor::from_vector<double>({3}, {0.5, -1.0, 2.0});
  std::vector<Tensor> plain_params = make(), params = make();
  ParameterSet plain(plain_params), set(params);
  plain.zero_grad();
  chain_loss(x, plain_params[0], plain_params[1], plain_params[2]).backward();

  // 24 bytes = 3 doubles: one bucket per parameter, the last parameter's first.
  OverlappedGradientSum sum(set, 24);
  const auto& buckets = sum.buckets();
  REQUIRE(buckets.size() == 4);
  int64_t end = set.numel();
  for (const auto& b : buckets) {
    CHECK(b.end == end);  // contiguous, from the end of the buffer back to its start
    CHECK(b.begin < b.end);
    end = b.begin;
  }
  CHECK(end == 0);
  set.zero_grad();
  sum.backward(chain_loss(x, params[0], params[1], params[2]));
  sum.wait();
  // Bucket 0 (the unused parameter) is final only when backward returns, and buckets start in order: nothing
  // started during backward. Hence the next case's order.
  CHECK(sum.backward_nodes() == 7);
  CHECK(sum.bucket_start_nodes() == std::vector<int64_t>{7, 7, 7, 7});
  CHECK(sum.started_before_last_node() == 0);
  CHECK(set.flat_grads().to_double_vector() == plain.flat_grads().to_double_vector());

  // The unused parameter first: the chain's parameters, last first, finish while backward runs.
  std::vector<Tensor> reordered = make();
  std::vector<Tensor> order = {reordered[3], reordered[0], reordered[1], reordered[2]};
  ParameterSet set2(order);
  OverlappedGradientSum sum2(set2, 24);
  Tensor addend = Tensor::from_vector<double>({12}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  set2.zero_grad();
  sum2.backward(chain_loss(x, order[1], order[2], order[3]), addend);
  sum2.wait();
  // Backward runs sum, mul(k, c), sigmoid, add(., c), mul(h, b), sigmoid, mul(x, a): c (bucket 0) is final with
  // the 4th node, b with the 5th, a with the 7th and last; the unused parameter waits for the end.
  CHECK(sum2.bucket_start_nodes() == std::vector<int64_t>{3, 4, 6, 7});
  CHECK(sum2.started_before_last_node() == 2);
  std::vector<double> g = set2.flat_grads().to_double_vector(), want = plain.flat_grads().to_double_vector();
  // set2 holds [unused, a, b, c], plain [a, b, c, unused]; each bucket got the addend added once.
  for (int64_t i = 0; i < 9; ++i) CHECK(g[size_t(3 + i)] == want[size_t(i)] + double(4 + i));
  for (int64_t i = 0; i < 3; ++i) CHECK(g[size_t(i)] == double(1 + i));
}

TEST_CASE("gradient buckets: a size that is not positive is refused") {
  std::vector<Tensor> p = {Tensor::from_vector<double>({2}, {1, 2})};
  ParameterSet set(p);
  CHECK_THROWS_WITH(OverlappedGradientSum(set, 0), doctest::Contains("bucket size must be positive"));
}

TEST_CASE("gradient buckets: the first (the last layers') closes at 1 MiB, as DDP's, the others at the size asked") {
  const int64_t mib_of_doubles = (int64_t(1) << 20) / 8;
  std::vector<Tensor> p;
  for (int i = 0; i < 4; ++i) p.push_back(Tensor::zeros({mib_of_doubles / 2}, DType::F64));  // 0.5 MiB each
  ParameterSet set(p);
  OverlappedGradientSum sum(set, int64_t(4) << 20);
  REQUIRE(sum.buckets().size() == 2);
  CHECK(sum.buckets()[0].end - sum.buckets()[0].begin == mib_of_doubles);  // the last two parameters
  CHECK(sum.buckets()[1].begin == 0);  // the rest: under 4 MiB, closed by the first parameter
}
