// sync_bn_check: one rank of `mpirun -np N sync_bn_check`. Synchronised BatchNorm (ops::set_batch_norm_sync) on N
// ranks, each with its slice of a batch, against plain BatchNorm over the whole batch on every rank, in f64: the
// outputs, the input gradients and the running statistics of each slice, and the weight and bias gradients summed over
// the ranks. The loss is sum(y * G) for a fixed random G, so that no loss normalisation differs between the two (a
// training run's mean losses per rank would). Exit 0 when all agree within 1e-10 relative.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "core/ops.h"
#include "core/rng.h"
#include "train/distributed.h"

using namespace mtinet;

namespace {

struct Result {
  Tensor y, gx, gw, gb, running_mean, running_var;
};

// BatchNorm over x (requires grad), backward of sum(y * g).
Result run(const Tensor& x_in, const Tensor& g) {
  int64_t c = x_in.dim(-1);
  Tensor x = x_in.clone();
  x.set_requires_grad(true);
  Tensor w = Tensor::full({c}, 1.5, DType::F64), b = Tensor::full({c}, 0.25, DType::F64);
  w.set_requires_grad(true);
  b.set_requires_grad(true);
  Result r;
  r.running_mean = Tensor::zeros({c}, DType::F64);
  r.running_var = Tensor::full({c}, 1.0, DType::F64);
  r.y = ops::batch_norm(x, w, b, r.running_mean, r.running_var, true, 0.1, 1e-5);
  ops::sum(ops::mul(r.y, g)).backward();
  r.gx = x.grad();
  r.gw = w.grad();
  r.gb = b.grad();
  return r;
}

double worst = 0;
void compare(const std::vector<double>& a, const std::vector<double>& b, const char* what) {
  double scale = 0, diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    scale = std::max(scale, std::abs(b[i]));
    diff = std::max(diff, std::abs(a[i] - b[i]));
  }
  double rel = scale > 0 ? diff / scale : diff;
  worst = std::max(worst, rel);
  std::fprintf(stderr, "rank %d: %-22s relative difference %.3g\n", dist::world().rank, what, rel);
}

std::vector<double> rows(const Tensor& t, int64_t begin, int64_t end) { return t.slice_batch(begin, end).to_double_vector(); }

}  // namespace

int main() {
  try {
    dist::Session session;
    const int64_t per_rank = 2, n = per_rank * dist::size(), h = 3, w = 5, c = 4;
    const int64_t r0 = per_rank * dist::world().rank, r1 = r0 + per_rank;
    Rng rng(7);  // the same whole batch on every rank
    Tensor x = Tensor::empty({n, h, w, c}, DType::F64), g = Tensor::empty({n, h, w, c}, DType::F64);
    fill_normal(x, rng, 0.5, 2.0);
    fill_normal(g, rng, 0.0, 1.0);
    Result whole = run(x, g);
    ops::set_batch_norm_sync([](std::vector<double>& v) {
      dist::allreduce_sum(v);
      for (double& e : v) e /= dist::size();
      return dist::size();
    });
    Result mine = run(x.slice_batch(r0, r1).clone(), g.slice_batch(r0, r1).clone());
    ops::set_batch_norm_sync({});
    compare(mine.y.to_double_vector(), rows(whole.y, r0, r1), "output");
    compare(mine.gx.to_double_vector(), rows(whole.gx, r0, r1), "input gradient");
    compare(mine.running_mean.to_double_vector(), whole.running_mean.to_double_vector(), "running mean");
    compare(mine.running_var.to_double_vector(), whole.running_var.to_double_vector(), "running var");
    std::vector<double> gw = mine.gw.to_double_vector(), gb = mine.gb.to_double_vector();
    dist::allreduce_sum(gw);
    dist::allreduce_sum(gb);
    compare(gw, whole.gw.to_double_vector(), "weight gradient (sum)");
    compare(gb, whole.gb.to_double_vector(), "bias gradient (sum)");
    std::vector<double> bad = {worst > 1e-10 ? 1.0 : 0.0};
    dist::allreduce_sum(bad);
    return bad[0] == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sync_bn_check, rank %d: error: %s\n", dist::world().rank, e.what());
    dist::abort_world(1);
    return 1;
  }
}
