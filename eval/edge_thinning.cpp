#include "eval/edge_thinning.h"

#include <array>
#include <cstddef>

namespace mtinet {

namespace {

// Neighbour offsets x1..x8 (dy, dx): E, NE, N, NW, W, SW, S, SE.
constexpr int kDy[8] = {0, -1, -1, -1, 0, 1, 1, 1};
constexpr int kDx[8] = {1, 1, 0, -1, -1, -1, 0, 1};

// deletable[sub][bits]: whether a foreground pixel whose neighbours x_i are bit i-1 of bits is deleted in
// subiteration sub (0 or 1).
std::array<std::array<bool, 256>, 2> make_tables() {
  std::array<std::array<bool, 256>, 2> t{};
  for (int bits = 0; bits < 256; ++bits) {
    auto x = [bits](int i) { return ((bits >> ((i - 1) % 8)) & 1) != 0; };  // x(9) == x(1)
    int xh = 0, n1 = 0, n2 = 0;
    for (int i = 1; i <= 4; ++i) {
      xh += !x(2 * i - 1) && (x(2 * i) || x(2 * i + 1));
      n1 += x(2 * i - 1) || x(2 * i);
      n2 += x(2 * i) || x(2 * i + 1);
    }
    int m = n1 < n2 ? n1 : n2;
    bool g1 = xh == 1, g2 = m >= 2 && m <= 3;
    bool g3 = !((x(2) || x(3) || !x(8)) && x(1));
    bool g3b = !((x(6) || x(7) || !x(4)) && x(5));
    t[0][size_t(bits)] = g1 && g2 && g3;
    t[1][size_t(bits)] = g1 && g2 && g3b;
  }
  return t;
}

}  // namespace

void thin_edges(std::vector<uint8_t>& mask, int64_t h, int64_t w) {
  static const std::array<std::array<bool, 256>, 2> deletable = make_tables();
  auto neighbour = [h, w](int64_t i, int k) -> int64_t {
    int64_t y = i / w + kDy[k], x = i % w + kDx[k];
    return y >= 0 && y < h && x >= 0 && x < w ? y * w + x : -1;
  };
  auto bits_of = [&](int64_t i) {
    int bits = 0;
    for (int k = 0; k < 8; ++k) {
      int64_t n = neighbour(i, k);
      if (n >= 0 && mask[size_t(n)]) bits |= 1 << k;
    }
    return bits;
  };
  // Each subiteration only re-examines the pixels whose neighbourhood changed since it last looked at them: the
  // others were not deletable then and still are not. Same result as scanning every pixel every time.
  std::array<std::vector<int64_t>, 2> dirty;
  std::array<std::vector<uint8_t>, 2> is_dirty;
  for (int sub = 0; sub < 2; ++sub) is_dirty[size_t(sub)].assign(size_t(h * w), 0);
  for (int64_t i = 0; i < h * w; ++i) {
    mask[size_t(i)] = mask[size_t(i)] != 0;
    if (!mask[size_t(i)]) continue;
    for (int sub = 0; sub < 2; ++sub) {
      dirty[size_t(sub)].push_back(i);
      is_dirty[size_t(sub)][size_t(i)] = 1;
    }
  }
  std::vector<int64_t> doomed, examine;
  for (bool changed = true; changed;) {
    changed = false;
    for (int sub = 0; sub < 2; ++sub) {
      // Decide on the image as it was at the start of the subiteration, then delete.
      examine.swap(dirty[size_t(sub)]);
      dirty[size_t(sub)].clear();
      doomed.clear();
      for (int64_t i : examine) {
        is_dirty[size_t(sub)][size_t(i)] = 0;
        if (mask[size_t(i)] && deletable[size_t(sub)][size_t(bits_of(i))]) doomed.push_back(i);
      }
      for (int64_t i : doomed) mask[size_t(i)] = 0;
      for (int64_t i : doomed) {
        for (int k = 0; k < 8; ++k) {
          int64_t n = neighbour(i, k);
          if (n < 0 || !mask[size_t(n)]) continue;
          for (int s2 = 0; s2 < 2; ++s2) {
            if (!is_dirty[size_t(s2)][size_t(n)]) {
              is_dirty[size_t(s2)][size_t(n)] = 1;
              dirty[size_t(s2)].push_back(n);
            }
          }
        }
      }
      changed = changed || !doomed.empty();
    }
  }
}

}  // namespace mtinet
