#include "model/load_model_weights.h"

#include "core/error.h"
#include "model/state_dict_origin.h"

namespace mtinet {

std::string describe_model_config(const ModelConfig& c) {
  std::string s = "model \"" + c.model + "\", backbone \"" + c.backbone + "\", ";
  return s + (c.model == "single_task" ? "task \"" + c.task + "\" of tasks \"" + c.tasks + "\""
                                       : "tasks \"" + c.tasks + "\"");
}

void load_model_weights(MultiTaskNetwork& model, const ModelConfig& config, const SafetensorsContents& file,
                        const std::string& recorded_origin) {
  LoadReport r = model.match_state_dict(file);
  if (!r.clean()) {
    std::string origin = guess_state_dict_origin(file);
    MTINET_FAIL("the weights '", file.source, "' do not fit the model of the config (", describe_model_config(config),
                "): ", r.summary(), "\n  the file looks like ", origin.empty() ? "no model mtinet knows" : origin,
                recorded_origin.empty() ? "" : "\n  its metadata says: " + recorded_origin);
  }
  model.load_state_dict(file, /*strict=*/true);
}

}  // namespace mtinet
