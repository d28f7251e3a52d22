// Loading a whole model's weights from a file, as predict, eval and train's init_weights and --resume do. A file
// that does not fit gets one short message: the counts and first keys of each kind of difference, the config the
// model was built from, and the config the file looks like it came from (model/state_dict_origin.h).
#pragma once
#include <string>

#include "core/safetensors.h"
#include "model/factory.h"
#include "model/network.h"

namespace mtinet {

// `recorded_origin`: what the file's own metadata says about it (train/weights_metadata.h), "" when nothing.
void load_model_weights(MultiTaskNetwork& model, const ModelConfig& config, const SafetensorsContents& file,
                        const std::string& recorded_origin = "");

// `model "mtinet", backbone "hrnet_w18_small_v2", tasks "nyud"`: the config's values in the same words as the guess.
std::string describe_model_config(const ModelConfig& config);

}  // namespace mtinet
