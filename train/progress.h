// Progress reporting during training: a one-line progress bar on a terminal, plain log lines otherwise.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace mtinet {

class Progress {
 public:
  explicit Progress(int64_t total_steps);
  // Reports one finished step. Plain mode prints every `log_every` steps (and the last).
  void step(int64_t step, int64_t epoch, double loss, const std::map<std::string, double>& task_losses, double lr,
            double images_per_s);
  void message(const std::string& line);  // a full line that does not disturb the bar
  void finish();

 private:
  int64_t total_;
  bool tty_;
  int64_t log_every_;
  std::chrono::steady_clock::time_point start_;
  bool bar_open_ = false;
};

}  // namespace mtinet
