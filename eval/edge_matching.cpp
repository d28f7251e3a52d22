#include "eval/edge_matching.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "eval/edge_thinning.h"

namespace mtinet {

namespace {

// Offsets (dy, dx) within the radius.
std::vector<std::pair<int, int>> disk_offsets(double radius) {
  int r = int(std::floor(radius));
  std::vector<std::pair<int, int>> out;
  for (int dy = -r; dy <= r; ++dy) {
    for (int dx = -r; dx <= r; ++dx) {
      if (double(dy * dy + dx * dx) <= radius * radius) out.emplace_back(dy, dx);
    }
  }
  return out;
}

// Maximum-cardinality matching between gt pixels and predicted pixels within reach, for descending thresholds.
// Lowering the threshold only adds predicted pixels, so each threshold starts from the previous matching and only
// searches for augmenting paths (Pothen-Fan: rounds of depth-first searches that share visit marks, with a
// lookahead for a free neighbour first; a round that finds nothing proves the matching maximum).
class Matcher {
 public:
  Matcher(const double* score, const uint8_t* gt, int64_t h, int64_t w, double radius, double min_threshold) {
    std::vector<std::pair<int, int>> offsets = disk_offsets(radius);
    std::vector<int64_t> gt_pixels;
    for (int64_t i = 0; i < h * w; ++i) {
      if (gt[i]) gt_pixels.push_back(i);
    }
    // Each gt pixel's reachable pixels that are predicted at the lowest threshold, highest score first: at
    // threshold t its predicted neighbours are a prefix of the list.
    nb_start_.push_back(0);
    std::vector<std::pair<double, int32_t>> near;
    for (int64_t i : gt_pixels) {
      int64_t y = i / w, x = i % w;
      near.clear();
      for (const auto& [dy, dx] : offsets) {
        int64_t yy = y + dy, xx = x + dx;
        if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
        int64_t p = yy * w + xx;
        if (score[p] >= min_threshold) near.emplace_back(score[p], int32_t(p));
      }
      std::sort(near.begin(), near.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first > b.first : a.second < b.second;
      });
      for (const auto& [s, p] : near) {
        nb_score_.push_back(s);
        nb_pixel_.push_back(p);
      }
      nb_start_.push_back(int64_t(nb_pixel_.size()));
    }
    const size_t g_count = gt_pixels.size();
    // gt pixels by their best reachable score, so those with a prediction in reach at t are a prefix.
    by_best_.resize(g_count);
    std::iota(by_best_.begin(), by_best_.end(), 0);
    std::stable_sort(by_best_.begin(), by_best_.end(), [this](int32_t a, int32_t b) { return best(a) > best(b); });
    lookahead_.assign(nb_start_.begin(), nb_start_.end() - 1);
    gt_mate_.assign(g_count, -1);
    gt_visit_.assign(g_count, 0);
    pred_owner_.assign(size_t(h * w), -1);
  }

  int64_t gt_count() const { return int64_t(gt_mate_.size()); }

  // The matching size at threshold t; thresholds must come in descending order.
  int64_t match_at(double t) {
    t_ = t;
    while (active_ < by_best_.size() && best(by_best_[active_]) >= t) ++active_;
    for (bool augmented = true; augmented;) {
      augmented = false;
      ++visit_;  // fresh marks for each round
      for (size_t k = 0; k < active_; ++k) {
        int32_t g = by_best_[k];
        if (gt_mate_[size_t(g)] < 0 && gt_visit_[size_t(g)] != visit_ && augment(g)) {
          ++matched_;
          augmented = true;
        }
      }
    }
    return matched_;
  }

 private:
  double best(int32_t g) const {
    return nb_start_[size_t(g) + 1] > nb_start_[size_t(g)] ? nb_score_[size_t(nb_start_[size_t(g)])] : -INFINITY;
  }
  bool predicted(int64_t entry, int32_t g) const { return entry < nb_start_[size_t(g) + 1] && nb_score_[size_t(entry)] >= t_; }
  void take(int32_t p, int32_t g) {
    pred_owner_[size_t(p)] = g;
    gt_mate_[size_t(g)] = p;
  }

  // A depth-first search for an augmenting path from the free gt pixel root. Matched predicted pixels never become
  // free again (augmenting only changes owners) and lowering t only appends to each list's predicted prefix, so
  // each gt pixel's lookahead pointer only moves forward over the whole image.
  bool augment(int32_t root) {
    std::vector<Frame>& stack = stack_;
    stack.assign(1, {root, nb_start_[size_t(root)], -1});
    gt_visit_[size_t(root)] = visit_;
    while (!stack.empty()) {
      const int32_t g = stack.back().g;
      int64_t& look = lookahead_[size_t(g)];
      while (predicted(look, g) && pred_owner_[size_t(nb_pixel_[size_t(look)])] >= 0) ++look;
      if (predicted(look, g)) {
        // Flip the path: the top gt pixel takes the free pixel, each one below takes the pixel that led upwards.
        int32_t p = nb_pixel_[size_t(look)];
        for (size_t k = stack.size(); k-- > 0;) {
          int32_t next_p = stack[k].via;
          take(p, stack[k].g);
          p = next_p;
        }
        return true;
      }
      Frame& f = stack.back();
      if (!predicted(f.next, g)) { stack.pop_back(); continue; }
      int32_t p = nb_pixel_[size_t(f.next++)];
      int32_t owner = pred_owner_[size_t(p)];  // taken: the lookahead found no free pixel in the prefix
      if (gt_visit_[size_t(owner)] == visit_) continue;
      gt_visit_[size_t(owner)] = visit_;
      stack.push_back({owner, nb_start_[size_t(owner)], p});
    }
    return false;
  }

  struct Frame {
    int32_t g;
    int64_t next;  // next list entry to descend through
    int32_t via;   // the predicted pixel (matched to g) through which the search reached g
  };

  std::vector<int64_t> nb_start_;  // CSR: gt pixel g's neighbours are entries [nb_start_[g], nb_start_[g+1])
  std::vector<double> nb_score_;
  std::vector<int32_t> nb_pixel_;
  std::vector<int32_t> by_best_;
  size_t active_ = 0;               // by_best_[0, active_) have a predicted pixel in reach at t_
  std::vector<int64_t> lookahead_;  // per gt pixel: list entries before it are known to be taken
  std::vector<int32_t> gt_mate_, gt_visit_, pred_owner_;
  std::vector<Frame> stack_;  // reused by augment()
  int32_t visit_ = 0;
  int64_t matched_ = 0;
  double t_ = 0;
};

}  // namespace

namespace {

// Pixels predicted at each threshold (score >= t), from a histogram of how many thresholds each score reaches.
std::vector<int64_t> predicted_counts(const double* score, int64_t pixels, const std::vector<double>& thresholds) {
  std::vector<int64_t> at_rank(thresholds.size() + 1, 0), pred(thresholds.size(), 0);
  for (int64_t i = 0; i < pixels; ++i) {
    ++at_rank[size_t(std::upper_bound(thresholds.begin(), thresholds.end(), score[i]) - thresholds.begin())];
  }
  int64_t above = 0;
  for (size_t j = thresholds.size(); j-- > 0;) {
    above += at_rank[j + 1];
    pred[j] = above;
  }
  return pred;
}

// The best score within reach of each pixel that is a gt pixel (-inf elsewhere): a gt pixel cannot match at a
// threshold above it.
std::vector<double> best_in_reach(const double* score, const uint8_t* gt, int64_t h, int64_t w, double radius) {
  std::vector<std::pair<int, int>> offsets = disk_offsets(radius);
  std::vector<double> best(size_t(h * w), -INFINITY);
  for (int64_t i = 0; i < h * w; ++i) {
    if (!gt[i]) continue;
    int64_t y = i / w, x = i % w;
    for (const auto& [dy, dx] : offsets) {
      int64_t yy = y + dy, xx = x + dx;
      if (yy >= 0 && yy < h && xx >= 0 && xx < w) best[size_t(i)] = std::max(best[size_t(i)], score[yy * w + xx]);
    }
  }
  return best;
}

}  // namespace

EdgeImageCounts match_edges(const double* score, const uint8_t* gt, int64_t h, int64_t w,
                            const std::vector<double>& thresholds, double radius, bool thin) {
  MTINET_CHECK(std::is_sorted(thresholds.begin(), thresholds.end()), "edge matching: thresholds must be ascending");
  MTINET_CHECK(radius >= 0, "edge matching: radius must be >= 0, got ", radius);
  EdgeImageCounts c;
  c.gt = std::count_if(gt, gt + h * w, [](uint8_t v) { return v != 0; });
  c.matched.assign(thresholds.size(), 0);
  if (!thin) {
    c.pred = predicted_counts(score, h * w, thresholds);
    Matcher m(score, gt, h, w, radius, thresholds.empty() ? 0.0 : thresholds.front());
    for (size_t j = thresholds.size(); j-- > 0;) c.matched[j] = m.match_at(thresholds[j]);
    return c;
  }
  // Thinned maps at different thresholds are not nested, so each threshold is matched from scratch; gt pixels with
  // nothing predicted in reach are left out of the graph (they stay in the gt count).
  std::vector<double> best = best_in_reach(score, gt, h, w, radius);
  std::vector<uint8_t> mask(size_t(h * w)), reachable_gt(size_t(h * w));
  std::vector<double> thinned(size_t(h * w));
  c.pred.assign(thresholds.size(), 0);
  for (size_t j = 0; j < thresholds.size(); ++j) {
    const double t = thresholds[j];
    for (int64_t i = 0; i < h * w; ++i) mask[size_t(i)] = score[i] >= t;
    thin_edges(mask, h, w);
    for (int64_t i = 0; i < h * w; ++i) {
      thinned[size_t(i)] = mask[size_t(i)];
      reachable_gt[size_t(i)] = best[size_t(i)] >= t;
      c.pred[j] += mask[size_t(i)];
    }
    Matcher m(thinned.data(), reachable_gt.data(), h, w, radius, 0.5);
    c.matched[j] = m.match_at(0.5);
  }
  return c;
}

int64_t match_edge_pixels(const uint8_t* pred, const uint8_t* gt, int64_t h, int64_t w, double radius) {
  std::vector<double> score(static_cast<size_t>(h * w));
  for (int64_t i = 0; i < h * w; ++i) score[size_t(i)] = pred[i] ? 1.0 : 0.0;
  return match_edges(score.data(), gt, h, w, {0.5}, radius, false).matched[0];
}

}  // namespace mtinet
