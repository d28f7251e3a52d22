// The files every dataset layout reads the same way: its split lists and its images.
#pragma once
#include <string>
#include <vector>

#include "core/tensor.h"

namespace mtinet {

// The ids of a split file, one a line (trailing CR and spaces dropped, blank lines skipped). Throws naming the file
// when it is missing ("<dataset> split file '...' not found (<hint>)"), lists no images, or holds an id that is no
// file name (a path separator, '..', a control character, over 200 bytes), naming the line.
std::vector<std::string> read_split_ids(const std::string& path, const std::string& dataset, const std::string& hint);

// dir/<id>.jpg, else dir/<id>.png; throws "<dataset>: missing image 'dir/<id>.jpg' (or .png)" when neither exists.
std::string find_image(const std::string& dir, const std::string& id, const std::string& dataset);

// An 8-bit image as a sample's "image" field: {H, W, 3} f32, 0..255 RGB. Throws naming the file otherwise.
Tensor load_sample_image(const std::string& path);

}  // namespace mtinet
