// A 3x5-pixel capital-letter font for labelling images without a font library: legends of the prediction panels
// (class names, a depth scale in metres). Letters are drawn upper-case; digits, space and . - / : ( ) _ % are
// known, anything else is drawn as a box.
#pragma once
#include <cstdint>
#include <string>

#include "core/tensor.h"

namespace mtinet {

constexpr int64_t kFontWidth = 3, kFontHeight = 5;

// Draws `text` into an {H, W, 3} u8 image with its top-left corner at (x, y), each font pixel `scale` x `scale`
// image pixels, one font pixel between characters; what falls outside the image is clipped.
void draw_text(Tensor& rgb, int64_t x, int64_t y, const std::string& text, const uint8_t colour[3], int64_t scale);

// The width in pixels draw_text needs for `text`.
int64_t text_width(const std::string& text, int64_t scale);

}  // namespace mtinet
