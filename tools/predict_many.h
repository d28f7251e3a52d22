// `mtinet predict` over many images: every image of a folder, or every sample of a dataset split (whose panels then
// show the ground truth between input and prediction). One panel per task and image (eval/panels.h).
#pragma once
#include <string>

#include "eval/predictor.h"
#include "train/config.h"

namespace mtinet {

// Writes <out>/<stem>_panel_<task>.png for every .jpg/.jpeg/.png in `folder` (sorted by name). Returns the count.
// dataset: "nyud" or "pascal", for the class names of the legend.
int64_t predict_folder(Predictor& predictor, const std::string& folder, const std::string& dataset,
                       const std::string& out);

// The same for every sample of `split` of the config's dataset, with ground truth. Returns the count.
int64_t predict_split(Predictor& predictor, const TrainConfig& cfg, const std::string& split, const std::string& out);

}  // namespace mtinet
