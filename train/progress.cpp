#include "train/progress.h"

#include <unistd.h>

#include <cstdio>

namespace mtinet {

Progress::Progress(int64_t total_steps)
    : total_(total_steps), tty_(isatty(fileno(stdout))), start_(std::chrono::steady_clock::now()) {
  log_every_ = total_ >= 200 ? total_ / 100 : 1;
  if (log_every_ > 20) log_every_ = 20;
}

void Progress::step(int64_t step, int64_t epoch, double loss, const std::map<std::string, double>& task_losses,
                    double lr, double images_per_s) {
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double eta = step > 0 ? elapsed / double(step) * double(total_ - step) : 0;
  std::string tasks;
  for (const auto& [name, v] : task_losses) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), " %s %.4f", name.c_str(), v);
    tasks += buf;
  }
  if (tty_) {
    int width = 24, filled = total_ > 0 ? int(double(width) * double(step) / double(total_)) : width;
    std::string bar(size_t(filled), '#');
    bar.resize(size_t(width), '.');
    std::printf("\r[%s] %lld/%lld ep %lld loss %.4f%s lr %.2e %.1f img/s ETA %.0fs\033[K", bar.c_str(),
                static_cast<long long>(step), static_cast<long long>(total_), static_cast<long long>(epoch), loss,
                tasks.c_str(), lr, images_per_s, eta);
    std::fflush(stdout);
    bar_open_ = true;
    return;
  }
  if (step % log_every_ != 0 && step != total_) return;
  std::printf("step %lld/%lld epoch %lld loss %.5f%s lr %.3e %.2f img/s eta %.0fs\n", static_cast<long long>(step),
              static_cast<long long>(total_), static_cast<long long>(epoch), loss, tasks.c_str(), lr, images_per_s,
              eta);
  std::fflush(stdout);
}

void Progress::message(const std::string& line) {
  if (bar_open_) std::printf("\n");
  bar_open_ = false;
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

void Progress::finish() {
  if (bar_open_) std::printf("\n");
  bar_open_ = false;
}

}  // namespace mtinet
