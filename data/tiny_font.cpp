#include "data/tiny_font.h"

#include <cctype>

#include "core/error.h"

namespace mtinet {

namespace {
// One glyph: 5 rows, top first, each 3 bits, the left pixel the highest bit.
struct Glyph {
  char c;
  uint8_t rows[5];
};

constexpr Glyph kGlyphs[] = {
    {'0', {7, 5, 5, 5, 7}}, {'1', {2, 6, 2, 2, 7}}, {'2', {7, 1, 7, 4, 7}}, {'3', {7, 1, 7, 1, 7}},
    {'4', {5, 5, 7, 1, 1}}, {'5', {7, 4, 7, 1, 7}}, {'6', {7, 4, 7, 5, 7}}, {'7', {7, 1, 1, 1, 1}},
    {'8', {7, 5, 7, 5, 7}}, {'9', {7, 5, 7, 1, 7}}, {'A', {2, 5, 7, 5, 5}}, {'B', {6, 5, 6, 5, 6}},
    {'C', {3, 4, 4, 4, 3}}, {'D', {6, 5, 5, 5, 6}}, {'E', {7, 4, 6, 4, 7}}, {'F', {7, 4, 6, 4, 4}},
    {'G', {3, 4, 5, 5, 3}}, {'H', {5, 5, 7, 5, 5}}, {'I', {7, 2, 2, 2, 7}}, {'J', {1, 1, 1, 5, 2}},
    {'K', {5, 5, 6, 5, 5}}, {'L', {4, 4, 4, 4, 7}}, {'M', {5, 7, 7, 5, 5}}, {'N', {6, 5, 5, 5, 5}},
    {'O', {2, 5, 5, 5, 2}}, {'P', {6, 5, 6, 4, 4}}, {'Q', {2, 5, 5, 6, 3}}, {'R', {6, 5, 6, 5, 5}},
    {'S', {3, 4, 2, 1, 6}}, {'T', {7, 2, 2, 2, 2}}, {'U', {5, 5, 5, 5, 7}}, {'V', {5, 5, 5, 5, 2}},
    {'W', {5, 5, 7, 7, 5}}, {'X', {5, 5, 2, 5, 5}}, {'Y', {5, 5, 2, 2, 2}}, {'Z', {7, 1, 2, 4, 7}},
    {' ', {0, 0, 0, 0, 0}}, {'.', {0, 0, 0, 0, 2}}, {'-', {0, 0, 7, 0, 0}}, {'/', {1, 1, 2, 4, 4}},
    {':', {0, 2, 0, 2, 0}}, {'(', {2, 4, 4, 4, 2}}, {')', {2, 1, 1, 1, 2}}, {'_', {0, 0, 0, 0, 7}},
    {'%', {5, 1, 2, 4, 5}},
};
constexpr Glyph kUnknown = {'?', {7, 5, 5, 5, 7}};

const Glyph& glyph(char c) {
  char u = char(std::toupper(static_cast<unsigned char>(c)));
  for (const Glyph& g : kGlyphs)
    if (g.c == u) return g;
  return kUnknown;
}
}  // namespace

int64_t text_width(const std::string& text, int64_t scale) {
  return text.empty() ? 0 : (int64_t(text.size()) * (kFontWidth + 1) - 1) * scale;
}

void draw_text(Tensor& rgb, int64_t x, int64_t y, const std::string& text, const uint8_t colour[3], int64_t scale) {
  MTINET_CHECK(rgb.ndim() == 3 && rgb.dim(2) == 3 && rgb.dtype() == DType::U8, "draw_text: expected {H, W, 3} u8, got ",
               rgb.describe());
  const int64_t H = rgb.dim(0), W = rgb.dim(1);
  uint8_t* px = rgb.data<uint8_t>();
  for (size_t i = 0; i < text.size(); ++i) {
    const Glyph& g = glyph(text[i]);
    const int64_t x0 = x + int64_t(i) * (kFontWidth + 1) * scale;
    for (int64_t r = 0; r < kFontHeight; ++r)
      for (int64_t c = 0; c < kFontWidth; ++c) {
        if (!((g.rows[r] >> (kFontWidth - 1 - c)) & 1)) continue;
        for (int64_t dy = 0; dy < scale; ++dy)
          for (int64_t dx = 0; dx < scale; ++dx) {
            const int64_t yy = y + r * scale + dy, xx = x0 + c * scale + dx;
            if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
            for (int k = 0; k < 3; ++k) px[(yy * W + xx) * 3 + k] = colour[k];
          }
      }
  }
}

}  // namespace mtinet
