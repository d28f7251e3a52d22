// Reading a weights file whatever wrote it: our safetensors (Module::save, checkpoints) or a PyTorch torch.save()
// file (.pth, .pth.tar, .pt: a state_dict, or a checkpoint dict holding one; core/torch_file.h). The format is told
// by the file's first bytes, not its name. A training state file (*.state.safetensors: optimiser and loader state,
// no weights) is refused with the name of the weights file beside it.
#pragma once
#include <string>

#include "core/safetensors.h"

namespace mtinet {

// The file's tensors under their PyTorch names and layouts, as Module::load_state_dict takes them.
SafetensorsContents load_weights(const std::string& path);

}  // namespace mtinet
