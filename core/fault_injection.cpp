#include "core/fault_injection.h"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

namespace mtinet {

namespace {
struct KillAt {
  std::string point;  // "" when no kill is asked for
  long hit = 1;       // which arrival kills
};

const KillAt& kill_at() {
  static const KillAt k = [] {
    KillAt out;
    const char* v = std::getenv("MTINET_FAULT_KILL_AT");
    if (v == nullptr || *v == '\0') return out;
    out.point = v;
    size_t colon = out.point.rfind(':');
    if (colon != std::string::npos) {
      out.hit = std::strtol(out.point.c_str() + colon + 1, nullptr, 10);
      out.point.resize(colon);
    }
    return out;
  }();
  return k;
}
}  // namespace

void fault_point(const char* name) {
  static std::atomic<bool> armed{!kill_at().point.empty()};
  if (!armed.load(std::memory_order_relaxed)) return;
  static std::mutex m;
  static long hits = 0;
  std::lock_guard<std::mutex> lock(m);
  if (kill_at().point != name || ++hits < kill_at().hit) return;
  std::fprintf(stderr, "fault injection: SIGKILL at '%s' (arrival %ld)\n", name, hits);
  std::fflush(stderr);
  std::raise(SIGKILL);
}

}  // namespace mtinet
