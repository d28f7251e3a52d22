// One-to-one matching of predicted edge pixels to ground-truth edge pixels within a distance tolerance, the core
// of the BSDS/SEISM boundary F-measure. BSDS's correspondPixels solves a min-cost assignment in which unmatched
// pixels pay a large outlier cost, which in effect maximises the number of matched pairs within the tolerance.
// What is computed here: an exact maximum-cardinality matching of the bipartite graph "predicted pixel -- gt pixel
// at Euclidean distance <= radius" (Pothen-Fan augmenting-path search, warm-started from one threshold to the next
// lower one). Which pairs are matched may differ from correspondPixels' minimum-distance choice (that changes no
// count), and its finite outlier cost (100 * maxDist per unmatched pixel) is not modelled: one more matched pair
// saves about twice that, more than any rearrangement of matched distances costs in realistic edge maps, so the
// counts agree except in contrived configurations.
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

// score: h*w row-major; gt: h*w, nonzero = edge; thresholds ascending; radius in pixels. The predicted edge map at
// threshold t is score >= t, thinned to one-pixel strokes when thin (SEISM's edgesEvalImg thins; see
// eval/edge_thinning.h); pred counts the pixels of that map.
EdgeImageCounts match_edges(const double* score, const uint8_t* gt, int64_t h, int64_t w,
                            const std::vector<double>& thresholds, double radius, bool thin);

// Matched-pair count between two binary maps (pred, gt nonzero = edge; no thinning).
int64_t match_edge_pixels(const uint8_t* pred, const uint8_t* gt, int64_t h, int64_t w, double radius);

}  // namespace mtinet
