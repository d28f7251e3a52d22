#include "core/finite_check.h"

#include <cmath>
#include <sstream>

namespace mtinet {

namespace {
template <class T>
std::optional<NonFiniteTensor> scan(const std::string& name, const T* p, int64_t n) {
  std::optional<NonFiniteTensor> bad;
  for (int64_t i = 0; i < n; ++i) {
    if (std::isfinite(p[i])) continue;
    if (!bad) bad = NonFiniteTensor{name, n, 0, i, double(p[i])};
    ++bad->count;
  }
  return bad;
}
}  // namespace

std::string NonFiniteTensor::describe() const {
  std::ostringstream os;
  os << "'" << name << "' holds " << count << " non-finite value" << (count == 1 ? "" : "s") << " of " << numel
     << " (the first, element " << first << ", is " << value << ")";
  return os.str();
}

std::optional<NonFiniteTensor> find_non_finite(const std::vector<std::pair<std::string, Tensor>>& tensors) {
  for (const auto& [name, t] : tensors) {
    if (!is_floating(t.dtype()) || t.numel() == 0) continue;
    Tensor h = t.to(Device::CPU);
    std::optional<NonFiniteTensor> bad;
    if (h.dtype() == DType::F64) {
      bad = scan(name, h.data<double>(), h.numel());
    } else {
      if (h.dtype() != DType::F32) h = h.to(DType::F32);  // f16 / bf16: every value, Inf and NaN included, fits
      bad = scan(name, h.data<float>(), h.numel());
    }
    if (bad) return bad;
  }
  return std::nullopt;
}

}  // namespace mtinet
