// Surface-normal labels of PASCAL-Context, distilled by the dataset's authors from a network trained on NYUD
// (normals_distill/<id>.png), read as the reference (Multi-Task-Learning-PyTorch, data/pascal_context.py,
// _load_normals_distilled):
//   n = 2 * png / 255 - 1 per channel (RGB as stored), kept only on pixels whose PASCAL-Context class
//   (LabelMap of pascal-context/trainval/<id>.mat) is one the NYUD network knew; elsewhere the zero vector, which
//   the loss and the metrics treat as invalid (the reference's AddIgnoreRegions turns it into 255).
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "data/label_checks.h"

namespace mtinet {

// The PASCAL-Context class ids (1..459, context_classes.json) whose names also name an NYUD class
// (nyu_classes.json), 'unknown' excluded, plus tvmonitor: the reference's normals_valid_classes.
bool normals_valid_class(double context_label);

// png: the decoded {H, W, 3} u8 normals image; label_map: the row-major H x W LabelMap. Returns {H, W, 3} f32.
Tensor normals_label(const Tensor& png, const std::vector<double>& label_map, const LabelSource& src);

}  // namespace mtinet
