// Indexed ("palette", PIL mode "P") PNGs read as PIL reads them: the palette index of every pixel, not its colour.
// PASCAL VOC's label PNGs (SegmentationClass, and semseg/VOC12 in the authors' PASCAL_MT) store class ids this way,
// and the reference reads them with np.array(Image.open(f)), which gives the indices. stb_image can only expand
// indices to colours, so the index of each pixel is recovered by looking its colour up in the file's PLTE chunk.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/tensor.h"

namespace mtinet {

// Whether the bytes are a PNG whose IHDR declares colour type 3 (indexed).
bool png_is_indexed(const uint8_t* data, size_t size);

// The {H, W, 1} u8 index map of an indexed PNG held in memory; `source` names it in messages. Throws when the file
// is not an indexed PNG, has no valid PLTE chunk, or holds a pixel whose colour stands at no palette entry or at
// several (its index would be ambiguous).
Tensor decode_png_indices(const uint8_t* data, size_t size, const std::string& source);

}  // namespace mtinet
