// Checks of a sample's label maps as they are stored in their files, run when the sample is read (before any
// augmentation): a bad value found here is reported with the file, the sample id, the value as the file holds it,
// its pixel and the allowed range. Later (after cropping, resizing and the label shift) the same value would be
// cropped away silently or surface in a loss as a NaN or a shifted class id that names no file.
// Each check is one pass over the map.
#pragma once
#include <cstdint>
#include <string>

#include "core/tensor.h"
#include "data/npy_header.h"

namespace mtinet {

// Where a label map comes from, for the messages.
struct LabelSource {
  std::string path;  // the file
  std::string id;    // the sample id (a line of the split file)
  std::string dataset = "NYUD";  // the dataset's name, first word of every message
};

// NYUD segmentation PNGs store 0 for unlabeled pixels and k in 1..classes for class k-1 (the reader shifts them);
// `raw` is the decoded {H, W, 1} u8 map, before that shift.
void check_nyud_semseg_values(const Tensor& raw, int64_t classes, const LabelSource& src);

// The element type a .npy label must be stored as: depth and normals float (f2, f4, f8); edge any (a binary map).
// `task` is "depth", "normals" or "edge".
void check_npy_label_dtype(const std::string& task, const NpyHeader& stored, const LabelSource& src);

// Depth in metres: finite and >= 0 (0 marks a pixel without a measurement); normals and edges: finite. `raw` is
// the array as parse_npy returns it ({H, W} or {H, W, C}), before any conversion, so values print as stored.
void check_npy_label_values(const std::string& task, const Tensor& raw, const LabelSource& src);

// The header of a .npy file that parse_npy has already accepted (so its magic and lengths are valid).
NpyHeader stored_npy_header(const uint8_t* data, size_t size, const std::string& source);

// Every label of a sample covers its image pixel for pixel: a map of another size would be resized or cropped
// differently from the image and train the model on misaligned targets.
void check_label_size(const Tensor& hwc, int64_t image_h, int64_t image_w, const std::string& image_path,
                      const LabelSource& src);

}  // namespace mtinet
