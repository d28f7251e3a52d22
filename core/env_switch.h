// A process-wide on/off switch whose default comes from an environment variable, read on first use; set() overrides
// the environment. Used by the CUDA debug and TF32 switches.
#pragma once
#include <atomic>
#include <cstdlib>
#include <cstring>

namespace mtinet {

class EnvSwitch {
 public:
  // Unset or empty: default_on. Set: on unless it is "0".
  EnvSwitch(const char* var, bool default_on) : var_(var), default_on_(default_on) {}
  bool get() {
    int s = state_.load(std::memory_order_relaxed);
    if (s < 0) {
      const char* v = std::getenv(var_);
      bool on = (v && *v) ? std::strcmp(v, "0") != 0 : default_on_;
      int expected = -1;
      state_.compare_exchange_strong(expected, on ? 1 : 0);  // a concurrent set() wins
      s = state_.load(std::memory_order_relaxed);
    }
    return s == 1;
  }
  void set(bool on) { state_.store(on ? 1 : 0, std::memory_order_relaxed); }

 private:
  const char* var_;
  bool default_on_;
  std::atomic<int> state_{-1};  // -1: environment not read yet
};

}  // namespace mtinet
