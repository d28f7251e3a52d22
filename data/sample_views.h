// A prepared sample written out for a person to check: every field as a float32 NCHW tensor {1, C, H, W} in one
// safetensors file (image 0..255 RGB before normalisation; segmentation labels as class numbers with 255 = ignore;
// normals, depth, edge, saliency as stored), and a PNG view of each field beside it, <stem>_<field>.png: the image
// itself, semseg and human parts in the VOC palette (ignore white), normals as (n + 1) / 2, depth on a colour ramp,
// edge and saliency grey. What `mtinet inspect` writes.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "data/sample.h"

namespace mtinet {

// The PNG view of one field of a sample, {H, W, C} as a dataset holds it -> {H, W, 1 or 3} u8: the image rounded to
// bytes, semseg and human parts in the VOC palette (255 = ignore, white), normals as RGB, depth on the depth ramp
// (0 = no measurement, black), edge and saliency grey. Throws for another field name. Also the ground-truth column
// of the prediction panels (eval/panels.h).
Tensor sample_field_view(const std::string& name, const Tensor& field);

// Writes out_path (.safetensors, with `metadata`) and the PNGs; returns the paths written, out_path first.
std::vector<std::string> write_sample_views(const Sample& s, const std::string& out_path,
                                            const std::map<std::string, std::string>& metadata = {});

}  // namespace mtinet
