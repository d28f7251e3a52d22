// One-to-one matching of predicted edge pixels to ground-truth edge pixels within a distance tolerance, the core
// of the BSDS/SEISM boundary F-measure. BSDS's correspondPixels solves a min-cost assignment in which unmatched
// pixels pay a large outlier cost, which in effect maximises the number of matched pairs within the tolerance.
// Approximation used here: a maximum-cardinality matching of the bipartite graph "pred pixel -- gt pixel at
// Euclidean distance <= radius", found by a greedy pass in order of increasing distance (every pair at distance d
// is considered before any pair at a larger distance) followed by augmenting paths (Kuhn's algorithm) that add
// the matches the greedy pass missed. The sum of matched distances is not minimised (it does not change the
// counts), and an augmenting-path search that visits more than kMaxAugmentVisits ground-truth pixels gives up, so
// in pathological cases the count can fall slightly short of the maximum.
#pragma once
#include <cstdint>
#include <vector>

namespace mtinet {

// Per-threshold counts for one image.
struct EdgeImageCounts {
  std::vector<int64_t> matched;  // matched pairs (= matched pred pixels = matched gt pixels, one ground truth)
  std::vector<int64_t> pred;     // predicted edge pixels: score >= threshold
  int64_t gt = 0;                // ground-truth edge pixels
};

// score: h*w row-major; gt: h*w, nonzero = edge; thresholds ascending; a pixel is a predicted edge at threshold t
// when score >= t (as edgesEvalImg). radius in pixels.
EdgeImageCounts match_edges(const double* score, const uint8_t* gt, int64_t h, int64_t w,
                            const std::vector<double>& thresholds, double radius);

// Matched-pair count between two binary maps (pred, gt nonzero = edge), for tests and single-threshold use.
int64_t match_edge_pixels(const uint8_t* pred, const uint8_t* gt, int64_t h, int64_t w, double radius);

}  // namespace mtinet
