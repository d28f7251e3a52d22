// mtinet convert IN OUT: weights between PyTorch's .pth and safetensors, both ways, without Python
// (train/convert_weights.h does the work).
#include <cstdio>
#include <string>
#include <vector>

#include "tools/args.h"
#include "tools/commands.h"
#include "train/convert_weights.h"

namespace mtinet {

namespace {

void print_usage() {
  std::printf(
      "usage: mtinet convert IN OUT [--force]\n\n"
      "Converts weights between PyTorch's torch.save format and safetensors, both ways. The format of OUT follows\n"
      "its extension: .safetensors, or .pth / .pt / .pth.tar (PyTorch's zip format, loadable with\n"
      "torch.load(f, weights_only=True) and load_state_dict). IN is read like any weights input: its format is told\n"
      "by content; a .pth may hold a state_dict or a checkpoint dict with one under 'model' / 'state_dict' /\n"
      "'model_state_dict', and a 'module.' prefix (nn.DataParallel) is removed.\n"
      "Safetensors output keeps the input's metadata (mtinet's training config, model and tasks); .pth output has no\n"
      "place for it and drops it. Bool tensors of a .pth come out as uint8.\n"
      "  --force  replace OUT when it exists (IN is never written over)\n");
}

const char* entries(size_t n) { return n == 1 ? "entry" : "entries"; }

}  // namespace

int cmd_convert(const std::vector<std::string>& argv) {
  Args args(argv, {}, {"force", "help"});
  if (args.has("help")) {
    print_usage();
    return 0;
  }
  if (args.positional().size() != 2) {
    print_usage();
    return 2;
  }
  const std::string& in = args.positional()[0];
  const std::string& out = args.positional()[1];
  ConvertResult r = convert_weights(in, out, args.has("force"));
  std::printf("read    %s (%s)\n", in.c_str(), r.input_description.c_str());
  std::printf("wrote   %s (%s): %zu tensors, %lld elements, %.2f MiB of tensor data\n", out.c_str(),
              weights_format_name(r.output), r.tensors, (long long)r.elements, double(r.bytes) / (1024.0 * 1024.0));
  if (r.metadata_kept) std::printf("metadata: kept %zu %s\n", r.metadata_kept, entries(r.metadata_kept));
  if (r.metadata_dropped) {
    std::printf("metadata: dropped %zu %s (a .pth state_dict has no place for them; keep the .safetensors file for "
                "them)\n", r.metadata_dropped, entries(r.metadata_dropped));
  }
  return 0;
}

}  // namespace mtinet
