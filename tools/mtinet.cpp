// The mtinet command-line program. Library code throws; this is the one place that turns errors into messages.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/omp_wait_policy.h"
#include "tools/commands.h"
#include "tools/version.h"
#include "train/distributed.h"

namespace {

struct Command {
  const char* name;
  int (*run)(const std::vector<std::string>&);
  const char* summary;
};

const Command kCommands[] = {
    {"train", mtinet::cmd_train, "train a model from a JSON config (see train/configs/)"},
    {"eval", mtinet::cmd_eval, "evaluate weights on a dataset split (metrics, multi-task delta, trivial baseline)"},
    {"predict", mtinet::cmd_predict, "run trained weights on one image: PNG visualisations, raw outputs"},
    {"inspect", mtinet::cmd_inspect, "write one prepared sample of a config's dataset: NCHW tensors and PNG views"},
    {"synth", mtinet::cmd_synth, "write a procedural multi-task dataset (NYUD or PASCAL layout)"},
    {"convert", mtinet::cmd_convert, "convert weights between PyTorch .pth and safetensors, both ways"},
    {"summary", mtinet::cmd_summary, "a model's module tree, parameters, MACs and training activation memory"},
    {"bench", mtinet::cmd_bench, "time kernels, steps, the loader or an epoch (bench kernels|train|loader|epoch)"},
    {"info", mtinet::cmd_info, "print the build configuration and the devices found"},
};

void print_help() {
  std::printf("mtinet: multi-scale task interaction networks in C++/CUDA\n\nusage: mtinet <command> [options]\n\n");
  std::printf("commands:\n");
  for (const Command& c : kCommands) std::printf("  %-8s %s\n", c.name, c.summary);
  std::printf("\n'mtinet <command> --help' describes a command's options; 'mtinet --version' prints the version.\n");
}

}  // namespace

int main(int argc, char** argv) {
  mtinet::reexec_with_passive_omp_wait(argv);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    print_help();
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::printf("mtinet %s\n", mtinet::kVersion);
    return 0;
  }
  for (const Command& c : kCommands) {
    if (args[0] != c.name) continue;
    try {
      return c.run(std::vector<std::string>(args.begin() + 1, args.end()));
    } catch (const std::exception& e) {
      const char* locations = std::getenv("MTINET_ERROR_LOCATIONS");
      bool keep = locations && std::string(locations) != "0";
      std::fprintf(stderr, "mtinet %s: error: %s\n", c.name,
                   keep ? e.what() : mtinet::without_source_locations(e.what()).c_str());
      mtinet::dist::abort_world(1);  // the other ranks of a multi-rank run would wait for this one forever
      return 1;
    }
  }
  std::fprintf(stderr, "mtinet: unknown command '%s' (see mtinet help)\n", args[0].c_str());
  return 2;
}
