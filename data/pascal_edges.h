// Edge labels of PASCAL-Context from its LabelMap (pascal-context/trainval/<id>.mat), computed as the reference
// (Multi-Task-Learning-PyTorch, data/pascal_context.py, _load_edge):
//   edge = skimage.morphology.thin(|cv2.Laplacian(LabelMap, CV_64F)| > 0)
// - cv2.Laplacian with its default ksize 1 is the 4-neighbour kernel [[0,1,0],[1,-4,1],[0,1,0]] applied with
//   OpenCV's default border, BORDER_REFLECT_101 (the pixel beyond column 0 is column 1). Note that a pixel whose
//   neighbours differ from it but sum to 4x its label (e.g. 3 | 4 | 5 in a row) is not a boundary: the reference's
//   definition, kept.
// - skimage's thin is Guo and Hall's two-subiteration parallel thinning (1989), the same algorithm and tables as
//   MATLAB's bwmorph(BW, 'thin', Inf), which eval/edge_thinning.h implements for the edge metric: it is reused
//   here (tests/test_pascal_labels.cpp checks it against skimage's documented example).
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "data/label_checks.h"
#include "data/mat.h"

namespace mtinet {

// 1 where the 4-neighbour Laplacian of the row-major h x w label map is non-zero.
std::vector<uint8_t> laplacian_boundaries(const std::vector<double>& labels, int64_t h, int64_t w);

// The {H, W, 1} f32 0/1 edge map of a LabelMap file: its variable LabelMap must be a 2-d numeric array.
Tensor edge_label(const MatFile& file, const LabelSource& src);

// The LabelMap of a pascal-context/trainval/<id>.mat file as doubles (row-major), checked to be 2-d numeric with
// finite values; h and w receive its size.
std::vector<double> read_label_map(const MatFile& file, const LabelSource& src, int64_t& h, int64_t& w);

}  // namespace mtinet
