#include "core/rng.h"

#include <cmath>
#include <vector>

namespace mtinet {

namespace {
uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

void Rng::seed_with(uint64_t seed) {
  uint64_t x = seed;
  for (uint64_t& w : s_) w = splitmix64(x);
  has_spare_ = false;
}

void Rng::set_state(const State& st) {
  for (int i = 0; i < 4; ++i) s_[i] = st.s[i];
  has_spare_ = st.has_spare;
  spare_ = st.spare;
}

uint64_t Rng::next_u64() {
  uint64_t result = rotl(s_[1] * 5, 7) * 9;
  uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() { return double(next_u64() >> 11) * 0x1.0p-53; }
double Rng::uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

double Rng::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u1 = 0;
  while (u1 <= 0) u1 = uniform();  // log(0) guard
  double u2 = uniform();
  double r = std::sqrt(-2.0 * std::log(u1));
  spare_ = r * std::sin(2.0 * M_PI * u2);
  has_spare_ = true;
  return r * std::cos(2.0 * M_PI * u2);
}

int64_t Rng::randint(int64_t n) {
  MTINET_CHECK(n > 0, "randint needs n > 0, got ", n);
  uint64_t un = uint64_t(n);
  uint64_t limit = UINT64_MAX - UINT64_MAX % un;  // reject the short last bucket
  uint64_t x;
  do { x = next_u64(); } while (x >= limit);
  return int64_t(x % un);
}

namespace {
template <class Gen>
void fill_host(Tensor& t, Gen gen) {
  check_floating("rng fill", t);
  Tensor host = Tensor::empty(t.shape(), DType::F64);
  double* p = host.data<double>();
  for (int64_t i = 0; i < host.numel(); ++i) p[i] = gen();
  t.copy_from(host.to(t.dtype()).to(t.device()));
}
}  // namespace

void fill_uniform(Tensor& t, Rng& rng, double lo, double hi) { fill_host(t, [&] { return rng.uniform(lo, hi); }); }
void fill_normal(Tensor& t, Rng& rng, double mean, double stddev) {
  fill_host(t, [&] { return mean + stddev * rng.normal(); });
}
void fill_kaiming_normal(Tensor& t, Rng& rng, int64_t fan) {
  MTINET_CHECK(fan > 0, "kaiming init needs fan > 0 for ", t.describe());
  fill_normal(t, rng, 0.0, std::sqrt(2.0 / double(fan)));
}

}  // namespace mtinet
