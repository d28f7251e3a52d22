// compare_weights A B [--params-only] [--rtol R]: compares two safetensors files tensor by tensor, names and values,
// and prints the largest difference. Exit 0 when every value is within rtol (relative to the largest |value| of its
// tensor; 0 = bit for bit), 1 when not, 2 on bad usage. --params-only leaves out BatchNorm's running statistics: in
// data-parallel training each rank's follow its own micro-batches, so they are no part of the equivalence with
// gradient accumulation (where one process's statistics see every micro-batch in turn).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "core/safetensors.h"

namespace {

bool is_running_statistic(const std::string& name) {
  return name.find("running_mean") != std::string::npos || name.find("running_var") != std::string::npos ||
         name.find("num_batches_tracked") != std::string::npos;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: compare_weights A B [--params-only] [--rtol R]\n");
    return 2;
  }
  bool params_only = false;
  double rtol = 0;
  for (int i = 3; i < argc; ++i) {
    if (std::strcmp(argv[i], "--params-only") == 0) params_only = true;
    else if (std::strcmp(argv[i], "--rtol") == 0 && i + 1 < argc) rtol = std::atof(argv[++i]);
    else { std::fprintf(stderr, "compare_weights: unknown argument '%s'\n", argv[i]); return 2; }
  }
  try {
    mtinet::SafetensorsContents a = mtinet::load_safetensors(argv[1]);
    mtinet::SafetensorsContents b = mtinet::load_safetensors(argv[2]);
    size_t compared = 0, differ = 0;
    double worst = 0;
    std::string worst_name = "(none)";
    for (const auto& [name, ta] : a.tensors) {
      if (params_only && is_running_statistic(name)) continue;
      if (!b.contains(name)) {
        std::printf("'%s' is in %s only\n", name.c_str(), argv[1]);
        return 1;
      }
      std::vector<double> va = ta.to_double_vector(), vb = b.at(name).to_double_vector();
      if (va.size() != vb.size()) {
        std::printf("'%s' has %zu values in A, %zu in B\n", name.c_str(), va.size(), vb.size());
        return 1;
      }
      double scale = 0, diff = 0;
      for (size_t i = 0; i < va.size(); ++i) {
        scale = std::max(scale, std::abs(va[i]));
        diff = std::max(diff, std::abs(va[i] - vb[i]));
      }
      double rel = scale > 0 ? diff / scale : diff;
      if (rel > worst || worst_name == "(none)") { worst = rel; worst_name = name; }
      if (rel > rtol) ++differ;
      ++compared;
    }
    std::printf("%zu tensors compared, %zu beyond rtol %g; largest relative difference %.3g ('%s')\n", compared,
                differ, rtol, worst, worst_name.c_str());
    return differ == 0 && compared > 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "compare_weights: %s\n", e.what());
    return 2;
  }
}
