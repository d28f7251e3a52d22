// A deterministic, seeded random generator (xoshiro256** seeded by splitmix64). Its output depends only on the
// seed, never on the platform's standard library, so initialisations and augmentations repeat bit for bit.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace mtinet {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { seed_with(seed); }
  void seed_with(uint64_t seed);
  uint64_t next_u64();
  double uniform();                      // [0, 1)
  double uniform(double lo, double hi);  // [lo, hi)
  double normal();                       // standard normal (Box-Muller)
  int64_t randint(int64_t n);            // [0, n), unbiased

  // Saves/restores the full state (for checkpoints).
  struct State { uint64_t s[4]; bool has_spare; double spare; };
  State state() const { return {{s_[0], s_[1], s_[2], s_[3]}, has_spare_, spare_}; }
  void set_state(const State& st);

 private:
  uint64_t s_[4];
  bool has_spare_ = false;
  double spare_ = 0;
};

// Fill a floating tensor (any device; generated on the host in element order).
void fill_uniform(Tensor& t, Rng& rng, double lo, double hi);
void fill_normal(Tensor& t, Rng& rng, double mean, double stddev);
// Kaiming-normal (He) init for a ReLU network, fan_out mode as torchvision/HRNet use: std = sqrt(2 / fan).
void fill_kaiming_normal(Tensor& t, Rng& rng, int64_t fan);

}  // namespace mtinet
