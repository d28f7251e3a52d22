// Side-by-side views of one image: input | ground truth (when the dataset has it) | prediction, one PNG per task,
// for `mtinet predict` on an image, a folder or a split, and for --explain (eval/explain.h).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "eval/predictor.h"

namespace mtinet {

// Writes <dir>/<stem>_panel_<task>.png for every final output of `prediction`: image | truth[task] (when given,
// drawn by sample_field_view, data/sample_views.h) | prediction, over a legend strip: the classes on view with their
// names (dataset "nyud" or "pascal"), the depth scale in metres, or the 0..1 scale of edge / saliency
// probabilities. image: {H, W, 3} u8 at the prediction's size; truth: task -> label map at that size. Returns the
// paths.
std::vector<std::string> write_panels(const Tensor& image, const Prediction& prediction,
                                      const std::map<std::string, Tensor>& truth, const std::string& dataset,
                                      const std::string& dir, const std::string& stem);

// Lines saying what the colours of the panels mean: the class of each colour (names for NYUD-40, VOC-21 and the
// human parts), the depth range in metres.
std::string describe_colours(const Prediction& prediction, const std::string& dataset);

}  // namespace mtinet
