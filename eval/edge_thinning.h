// Morphological thinning of a binary edge map to one-pixel-wide strokes, as MATLAB's bwmorph(BW, 'thin', Inf),
// which SEISM's edgesEvalImg applies to each thresholded prediction before matching. The algorithm is the one
// MATLAB documents (Lam, Lee & Suen 1992, p. 879): two subiterations, each deleting in parallel the pixels p with
//   G1: X_H(p) = 1, X_H = sum_{i=1..4} [x_{2i-1} = 0 and (x_{2i} = 1 or x_{2i+1} = 1)]
//   G2: 2 <= min(n1, n2) <= 3, n1 = sum_k (x_{2k-1} or x_{2k}), n2 = sum_k (x_{2k} or x_{2k+1})
//   G3 (first):  ((x2 or x3 or not x8) and x1) = 0;   G3' (second): ((x6 or x7 or not x4) and x5) = 0
// where x1..x8 are the neighbours from east counter-clockwise (x1 = E, x2 = NE, x3 = N, ..., x8 = SE, x9 = x1)
// and pixels outside the image are 0; repeated until nothing changes.
#pragma once
#include <cstdint>
#include <vector>

namespace mtinet {

// Thins mask (h*w row-major, nonzero = foreground) in place; values become 0 or 1.
void thin_edges(std::vector<uint8_t>& mask, int64_t h, int64_t w);

}  // namespace mtinet
