#include "train/edge_matching.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace mtinet {

namespace {

constexpr int64_t kMaxAugmentVisits = 20000;

struct Offset {
  int dy, dx;
  int64_t d2;
};

// All offsets within the radius, nearest first (ties in a fixed order so results are reproducible).
std::vector<Offset> disk_offsets(double radius) {
  int r = int(std::floor(radius));
  std::vector<Offset> out;
  for (int dy = -r; dy <= r; ++dy) {
    for (int dx = -r; dx <= r; ++dx) {
      int64_t d2 = int64_t(dy) * dy + int64_t(dx) * dx;
      if (double(d2) <= radius * radius) out.push_back({dy, dx, d2});
    }
  }
  std::sort(out.begin(), out.end(), [](const Offset& a, const Offset& b) {
    if (a.d2 != b.d2) return a.d2 < b.d2;
    if (a.dy != b.dy) return a.dy < b.dy;
    return a.dx < b.dx;
  });
  return out;
}

// The matching state for one image, reused across thresholds.
class Matcher {
 public:
  Matcher(const double* score, const uint8_t* gt, int64_t h, int64_t w, double radius)
      : score_(score), h_(h), w_(w), offsets_(disk_offsets(radius)) {
    for (int64_t i = 0; i < h * w; ++i) {
      if (gt[i]) { gy_.push_back(int(i / w)); gx_.push_back(int(i % w)); }
    }
    // The best score near each gt pixel: at thresholds above it the pixel cannot match, so it is skipped.
    nearby_max_.assign(gy_.size(), -INFINITY);
    for (size_t g = 0; g < gy_.size(); ++g) {
      for (const Offset& o : offsets_) {
        int64_t p = pixel(g, o);
        if (p >= 0) nearby_max_[g] = std::max(nearby_max_[g], score_[p]);
      }
    }
    pred_stamp_.assign(size_t(h * w), 0);
    pred_owner_.assign(size_t(h * w), -1);
    gt_visit_.assign(gy_.size(), 0);
  }

  int64_t gt_count() const { return int64_t(gy_.size()); }

  int64_t match_at(double t) {
    t_ = t;
    ++stamp_;
    ++visit_;
    std::vector<int32_t> open;  // gt pixels that have a predicted pixel in reach and no match yet
    for (size_t g = 0; g < gy_.size(); ++g) {
      if (nearby_max_[g] >= t) open.push_back(int32_t(g));
    }
    int64_t matched = 0;
    // Greedy in order of increasing distance: each pass pairs every open gt pixel with the free predicted pixel at
    // this offset, if any.
    std::vector<int32_t> still_open;
    for (const Offset& o : offsets_) {
      if (open.empty()) break;
      still_open.clear();
      for (int32_t g : open) {
        int64_t p = pixel(size_t(g), o);
        if (p >= 0 && score_[p] >= t_ && pred_stamp_[size_t(p)] != stamp_) {
          take(p, g);
          ++matched;
        } else {
          still_open.push_back(g);
        }
      }
      open.swap(still_open);
    }
    // Augmenting paths for the gt pixels the greedy pass left unmatched although predictions are in reach.
    for (int32_t g : open) matched += augment(g) ? 1 : 0;
    return matched;
  }

 private:
  // The pixel index at offset o from gt pixel g, or -1 outside the image.
  int64_t pixel(size_t g, const Offset& o) const {
    int64_t y = gy_[g] + o.dy, x = gx_[g] + o.dx;
    if (y < 0 || y >= h_ || x < 0 || x >= w_) return -1;
    return y * w_ + x;
  }
  bool free_pred(int64_t p) const { return score_[p] >= t_ && pred_stamp_[size_t(p)] != stamp_; }
  void take(int64_t p, int32_t g) {
    pred_stamp_[size_t(p)] = stamp_;
    pred_owner_[size_t(p)] = g;
  }

  // Kuhn's search for an augmenting path from the unmatched gt pixel root (iterative depth-first). Visit marks
  // survive a failed search: until the matching changes, no path leads through those pixels either.
  bool augment(int32_t root) {
    struct Frame {
      int32_t g;
      size_t next;  // next offset to try
      int64_t via;  // the predicted pixel (matched to g) through which the search reached g
    };
    std::vector<Frame> stack{{root, 0, -1}};
    gt_visit_[size_t(root)] = visit_;
    int64_t visits = 1;
    while (!stack.empty()) {
      Frame& f = stack.back();
      if (f.next == offsets_.size()) { stack.pop_back(); continue; }
      int64_t p = pixel(size_t(f.g), offsets_[f.next++]);
      if (p < 0 || score_[p] < t_) continue;
      if (free_pred(p)) {
        // Flip the path: each frame's gt pixel takes the predicted pixel that led to the frame above it.
        for (size_t k = stack.size(); k-- > 0;) {
          take(k + 1 == stack.size() ? p : stack[k + 1].via, stack[k].g);
        }
        ++visit_;
        return true;
      }
      int32_t owner = pred_owner_[size_t(p)];
      if (gt_visit_[size_t(owner)] == visit_) continue;
      if (++visits > kMaxAugmentVisits) break;
      gt_visit_[size_t(owner)] = visit_;
      stack.push_back({owner, 0, p});
    }
    if (visits > kMaxAugmentVisits) ++visit_;  // an abandoned search explored only part of what it marked
    return false;
  }

  const double* score_;
  int64_t h_, w_;
  std::vector<Offset> offsets_;
  std::vector<int> gy_, gx_;
  std::vector<double> nearby_max_;
  std::vector<int32_t> pred_stamp_, pred_owner_;
  std::vector<int32_t> gt_visit_;
  int32_t stamp_ = 0, visit_ = 0;
  double t_ = 0;
};

}  // namespace

EdgeImageCounts match_edges(const double* score, const uint8_t* gt, int64_t h, int64_t w,
                            const std::vector<double>& thresholds, double radius) {
  MTINET_CHECK(std::is_sorted(thresholds.begin(), thresholds.end()), "edge matching: thresholds must be ascending");
  MTINET_CHECK(radius >= 0, "edge matching: radius must be >= 0, got ", radius);
  EdgeImageCounts c;
  // Predicted pixel counts: a pixel is an edge at the thresholds <= its score.
  std::vector<int64_t> at_rank(thresholds.size() + 1, 0);
  for (int64_t i = 0; i < h * w; ++i) {
    ++at_rank[size_t(std::upper_bound(thresholds.begin(), thresholds.end(), score[i]) - thresholds.begin())];
  }
  c.pred.assign(thresholds.size(), 0);
  int64_t above = 0;
  for (size_t j = thresholds.size(); j-- > 0;) {
    above += at_rank[j + 1];
    c.pred[j] = above;
  }
  Matcher m(score, gt, h, w, radius);
  c.gt = m.gt_count();
  for (double t : thresholds) c.matched.push_back(m.match_at(t));
  return c;
}

int64_t match_edge_pixels(const uint8_t* pred, const uint8_t* gt, int64_t h, int64_t w, double radius) {
  std::vector<double> score(static_cast<size_t>(h * w));
  for (int64_t i = 0; i < h * w; ++i) score[size_t(i)] = pred[i] ? 1.0 : 0.0;
  return match_edges(score.data(), gt, h, w, {0.5}, radius).matched[0];
}

}  // namespace mtinet
