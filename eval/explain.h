// Drawing what MTI-Net attends to, for one image (`mtinet predict --explain DIR`): the maps a forward pass hands to a
// tap::Recorder (layers/activation_tap.h), rendered as heat maps over the input, plus a panel per task.
//   <stem>_fpm_scale<s>_<task>.png       the FPM's softmax mask at scale s over task <task>'s channels of the
//                                        task-major concatenation (scales 1..3; the FPM feeds scale s-1): with the
//                                        paper's grouping their mean, the share of that task's features the shared
//                                        representation keeps at each pixel; with the reference's (the default)
//                                        their standard deviation, how selectively it keeps them (its mean is 1/N)
//   <stem>_attention_scale<s>_<t>_from_<a>.png
//                                        the spatial-attention map through which task a's features reach task t in
//                                        the distillation at scale s, averaged over channels (a sigmoid: 0..1)
//   <stem>_panel_<task>.png               input | prediction, side by side, at the image's size
//   <stem>_explain.txt                    what each file shows, the range its colours span, the class colours
// Heat maps run from dark purple (the map's minimum) to yellow (its maximum), over the input at half opacity; each
// map is stretched to its own range, given in the text file (an FPM mask varies little around 1/N).
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "eval/predictor.h"

namespace mtinet {

// image: the input {H, W, 3} u8 RGB; maps: a recorder's maps of one forward pass (batch 1); auxiliary: the model's
// auxiliary task names, in the order the FPM concatenates them; fpm_across_tasks: the paper's FPM grouping
// (model config fpm_grouping "paper"); dataset: "nyud" or "pascal" (class names).
// Returns the paths written (dir is created).
std::vector<std::string> write_explanation(const Tensor& image, const Prediction& prediction,
                                           const std::vector<std::pair<std::string, Tensor>>& maps,
                                           const std::vector<std::string>& auxiliary, bool fpm_across_tasks,
                                           const std::string& dataset, const std::string& dir,
                                           const std::string& stem);

}  // namespace mtinet
