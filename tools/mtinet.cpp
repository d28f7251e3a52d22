// The mtinet command-line program. Library code throws; this is the one place that turns errors into messages.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "core/device.h"

namespace {
void print_help() {
  std::printf(
      "mtinet: multi-scale task interaction networks in C++/CUDA\n\n"
      "usage: mtinet <command> [options]\n\n"
      "commands:\n"
      "  info     print the build configuration and the devices found\n"
      "  help     this text\n");
}

int cmd_info() {
#ifdef MTINET_WITH_CUDA
  std::printf("CUDA backend: built\n");
#else
  std::printf("CUDA backend: not built (MTINET_CUDA=OFF)\n");
#endif
  std::printf("CUDA GPU available: %s\n", mtinet::cuda_available() ? "yes" : "no");
  std::printf("default device: %s\n", mtinet::device_name(mtinet::default_device()));
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc < 2 || !std::strcmp(argv[1], "help") || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
      print_help();
      return argc < 2 ? 1 : 0;
    }
    std::string cmd = argv[1];
    if (cmd == "info") return cmd_info();
    std::fprintf(stderr, "mtinet: unknown command '%s' (see mtinet help)\n", cmd.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mtinet: error: %s\n", e.what());
    return 1;
  }
}
