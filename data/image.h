// Image decoding (JPEG, PNG 8- and 16-bit, via stb_image) and PNG writing (stb_image_write).
#pragma once
#include <string>

#include "core/tensor.h"

namespace mtinet {

// Decodes an image file into an {H, W, C} CPU tensor: u8 for 8-bit files, i32 (0..65535) for 16-bit PNGs.
// channels = 0 keeps the file's channel count; 1/3 converts (grey <-> RGB). Errors name the file.
Tensor load_image(const std::string& path, int channels = 0);
// Writes an {H, W, C} u8 tensor (C = 1, 3 or 4) as PNG, atomically.
void save_png(const std::string& path, const Tensor& image);

}  // namespace mtinet
