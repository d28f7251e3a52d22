#include "kernels/cpu_isa.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace mtinet::kernels {

namespace {
CpuIsa from_environment() {
  CpuIsa best = best_supported_cpu_isa();
  const char* v = std::getenv("MTINET_CPU_ISA");
  if (v == nullptr || *v == '\0') return best;
  CpuIsa asked = best;
  if (std::strcmp(v, "baseline") == 0) asked = CpuIsa::Baseline;
  if (std::strcmp(v, "avx2") == 0) asked = CpuIsa::Avx2;
  if (std::strcmp(v, "avx512") == 0) asked = CpuIsa::Avx512;
  return asked < best ? asked : best;
}

std::atomic<int>& current() {
  static std::atomic<int> isa{int(from_environment())};
  return isa;
}
}  // namespace

CpuIsa best_supported_cpu_isa() {
  // AVX-512 variants use only AVX-512F instructions; AVX2 variants also use FMA.
  if (__builtin_cpu_supports("avx512f")) return CpuIsa::Avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return CpuIsa::Avx2;
  return CpuIsa::Baseline;
}

CpuIsa cpu_isa() { return CpuIsa(current().load(std::memory_order_relaxed)); }

void set_cpu_isa(CpuIsa isa) {
  CpuIsa best = best_supported_cpu_isa();
  current().store(int(isa < best ? isa : best), std::memory_order_relaxed);
}

const char* cpu_isa_name(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::Avx512: return "avx512";
    case CpuIsa::Avx2: return "avx2";
    default: return "baseline";
  }
}

}  // namespace mtinet::kernels
