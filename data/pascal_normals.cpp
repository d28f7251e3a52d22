#include "data/pascal_normals.h"

#include <algorithm>
#include <iterator>

#include "core/error.h"

namespace mtinet {

namespace {
// Computed once from the reference's data/db_info/context_classes.json and nyu_classes.json: the 169 names in both
// (air conditioner 3, antenna 4, ashtray 6, bag 9, ..., window 454, wire 457), plus tvmonitor (427). Sorted.
constexpr int kValid[] = {
    3,   4,   6,   9,   10,  11,  13,  15,  17,  18,  22,  23,  29,  30,  33,  34,  36,  37,  38,  39,  41,  43,
    46,  49,  50,  51,  53,  55,  56,  59,  61,  62,  65,  66,  68,  69,  72,  73,  78,  83,  84,  85,  87,  88,
    95,  96,  101, 104, 105, 107, 111, 113, 115, 122, 124, 135, 141, 142, 143, 146, 150, 154, 157, 158, 159, 165,
    172, 174, 181, 183, 184, 191, 193, 195, 197, 199, 202, 213, 215, 216, 219, 220, 223, 225, 228, 230, 232, 233,
    238, 239, 242, 243, 246, 250, 251, 252, 255, 260, 261, 263, 269, 272, 273, 275, 281, 283, 284, 285, 286, 287,
    288, 290, 291, 292, 293, 295, 304, 307, 309, 310, 314, 315, 319, 323, 329, 330, 331, 336, 342, 345, 349, 350,
    351, 352, 355, 357, 368, 370, 371, 374, 379, 380, 383, 384, 397, 401, 403, 405, 407, 408, 411, 412, 413, 414,
    417, 419, 421, 423, 427, 429, 430, 432, 440, 441, 442, 443, 444, 446, 454, 457};
static_assert(std::size(kValid) == 170, "169 shared names plus tvmonitor");
}  // namespace

bool normals_valid_class(double label) {
  int k = int(label);
  return double(k) == label && std::binary_search(std::begin(kValid), std::end(kValid), k);
}

Tensor normals_label(const Tensor& png, const std::vector<double>& label_map, const LabelSource& src) {
  MTINET_CHECK(png.dtype() == DType::U8 && png.ndim() == 3 && png.dim(2) == 3, "PASCAL sample '", src.id, "': '",
               src.path, "' must be an 8-bit RGB PNG (normals as 2 * value / 255 - 1)");
  int64_t h = png.dim(0), w = png.dim(1);
  MTINET_CHECK(int64_t(label_map.size()) == h * w, "PASCAL sample '", src.id, "': '", src.path, "' is ", h, "x", w,
               " but its LabelMap has ", label_map.size(), " pixels (normals are kept per LabelMap class)");
  Tensor out = Tensor::zeros({h, w, 3}, DType::F32);
  const uint8_t* in = png.data<uint8_t>();
  float* o = out.data<float>();
  for (int64_t p = 0; p < h * w; ++p) {
    if (!normals_valid_class(label_map[size_t(p)])) continue;
    for (int c = 0; c < 3; ++c) o[3 * p + c] = 2.0f * float(in[3 * p + c]) / 255.0f - 1.0f;
  }
  return out;
}

}  // namespace mtinet
