// What weights files written by mtinet say about where they came from: the safetensors "__metadata__" of a
// checkpoint's weights carries the training config, the model, its tasks and the mtinet version, so a file that does
// not fit a model can be explained in one line ("trained as ... "), and `mtinet summary --weights` can show it.
#pragma once
#include <map>
#include <string>

#include "core/safetensors.h"
#include "model/tasks.h"
#include "train/config.h"

namespace mtinet {

inline constexpr const char* kMetaConfig = "mtinet.config";    // the validated training config, JSON
inline constexpr const char* kMetaModel = "mtinet.model";      // the model section (model, backbone, tasks...), JSON
inline constexpr const char* kMetaTasks = "mtinet.tasks";      // the predicted tasks, "semseg,depth"
inline constexpr const char* kMetaAuxiliary = "mtinet.auxiliary_tasks";  // deep-supervised tasks, same form
inline constexpr const char* kMetaVersion = "mtinet.version";  // the mtinet that wrote the file

// The metadata for the weights of a model trained with `config` predicting `tasks` (the model's own task set),
// plus "format": "pt" (safetensors' marker for PyTorch tensors and names).
std::map<std::string, std::string> weights_metadata(const TrainConfig& config, const TaskSet& tasks);

// One line from that metadata: "trained as MTI-Net HRNet-W18-small-v2 NYUD tasks semseg,depth by mtinet 0.3.0-dev",
// or "" when the file carries none (written by PyTorch or before weights carried metadata). Never throws: the line
// goes into error messages about the file, which must not fail in turn.
std::string describe_weights_origin(const SafetensorsContents& file);

}  // namespace mtinet
