// Telling from a state_dict's keys and shapes which model wrote it, in the model config's own words
// (model, backbone, tasks), so that a weights file that does not fit the config says which config it does fit.
// Our own files also carry their config in metadata; this reads any file, the reference's PyTorch ones included.
#pragma once
#include <string>

#include "core/safetensors.h"

namespace mtinet {

// E.g. `model "mtinet", backbone "hrnet_w18_small_v2", tasks "nyud_aux"`; parts that cannot be told are left out,
// and a bare HRNet (the ImageNet classification file) is named as such. "" when nothing is recognised.
std::string guess_state_dict_origin(const SafetensorsContents& file);

}  // namespace mtinet
