// The dataset reader for a layout name, so a caller that takes the layout from a config or a flag needs no
// per-dataset code: "nyud" (data/nyud.h, what `mtinet synth` writes) or "pascal" (data/pascal.h, what
// `mtinet synth --layout pascal` writes).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace mtinet {

std::shared_ptr<Dataset> open_dataset(const std::string& layout, const std::string& root, const std::string& split,
                                      const std::vector<std::string>& tasks);

}  // namespace mtinet
