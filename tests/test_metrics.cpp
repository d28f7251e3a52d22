// Evaluation metrics on small hand-computed cases: a confusion example with a known mIoU, depth with a known RMSE,
// normals at 0/45/90/180 degrees, saliency precision/recall/IoU per threshold, edge F with a shifted edge inside
// and outside the tolerance (and a matching the greedy pass alone gets wrong), and the multi-task delta on the
// paper's numbers.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "eval/edge_matching.h"
#include "eval/edge_thinning.h"
#include "eval/metrics.h"

using namespace mtinet;
using nlohmann::json;

namespace {

Tensor f64(const Shape& s, const std::vector<double>& v) { return Tensor::from_vector<double>(s, v); }
Tensor i64(const Shape& s, const std::vector<int64_t>& v) { return Tensor::from_vector<int64_t>(s, v); }

constexpr double kPi = 3.14159265358979323846;

double logit(double p) { return std::log(p / (1 - p)); }

// One-hot-ish logits {N, H, W, C} whose argmax is the given class per pixel.
Tensor logits_for(const Shape& nhw, int64_t classes, const std::vector<int64_t>& cls) {
  std::vector<double> v(cls.size() * size_t(classes), -1.0);
  for (size_t i = 0; i < cls.size(); ++i) v[i * size_t(classes) + size_t(cls[i])] = 2.0;
  return f64({nhw[0], nhw[1], nhw[2], classes}, v);
}

double num(const json& j, const char* key) { return j.at(key).get<double>(); }

}  // namespace

// ---------------------------------------------------------------- segmentation

// label [0 0 1 | 1 2 255], pred [0 1 1 | 1 0 2]: tp = (1,2,0), fp = (1,1,0), fn = (1,0,1);
// IoU = (1/3, 2/3, 0), mIoU = 1/3, pixel accuracy 3/5 (the ignored pixel's wrong prediction does not count).
TEST_CASE("segmentation: hand-computed confusion, IoUs and mIoU") {
  SegmentationMetric m(3);
  Tensor label = i64({1, 2, 3}, {0, 0, 1, 1, 2, 255});
  m.update(logits_for({1, 2, 3}, 3, {0, 1, 1, 1, 0, 2}), label);
  json r = m.results();
  CHECK(r["tp"] == json({1, 2, 0}));
  CHECK(r["fp"] == json({1, 1, 0}));
  CHECK(r["fn"] == json({1, 0, 1}));
  CHECK(num(r, "mIoU") == doctest::Approx(1.0 / 3).epsilon(1e-12));
  CHECK(r["jaccards_all_categs"][0].get<double>() == doctest::Approx(1.0 / 3).epsilon(1e-12));
  CHECK(r["jaccards_all_categs"][1].get<double>() == doctest::Approx(2.0 / 3).epsilon(1e-12));
  CHECK(r["jaccards_all_categs"][2].get<double>() == 0.0);
  CHECK(num(r, "pixel_acc") == doctest::Approx(0.6).epsilon(1e-12));
  CHECK(r["n_valid"] == 5);
}

TEST_CASE("segmentation: a class absent from labels and predictions counts as IoU 0 in the mean") {
  SegmentationMetric m(4);  // class 3 never occurs: the reference's mean over all classes gives (1/3+2/3+0+0)/4
  m.update(logits_for({1, 2, 3}, 4, {0, 1, 1, 1, 0, 2}), i64({1, 2, 3}, {0, 0, 1, 1, 2, 255}));
  CHECK(num(m.results(), "mIoU") == doctest::Approx(0.25).epsilon(1e-12));
}

TEST_CASE("segmentation: counts pool over batches and images, not averaged per image") {
  // Image A: all 4 pixels class 0, predicted 0. Image B: 4 pixels class 1, one predicted 1, three predicted 0.
  // Pooled: tp = (4, 1), fp = (3, 0), fn = (0, 3); IoU0 = 4/7, IoU1 = 1/4. Per-image averaging would differ.
  std::vector<int64_t> ya = {0, 0, 0, 0}, pa = {0, 0, 0, 0}, yb = {1, 1, 1, 1}, pb = {1, 0, 0, 0};
  SegmentationMetric split(2), whole(2);
  split.update(logits_for({1, 2, 2}, 2, pa), i64({1, 2, 2}, ya));
  split.update(logits_for({1, 2, 2}, 2, pb), i64({1, 2, 2}, yb));
  std::vector<int64_t> y = ya, p = pa;
  y.insert(y.end(), yb.begin(), yb.end());
  p.insert(p.end(), pb.begin(), pb.end());
  whole.update(logits_for({2, 2, 2}, 2, p), i64({2, 2, 2}, y));
  double expected = (4.0 / 7 + 1.0 / 4) / 2;
  CHECK(num(split.results(), "mIoU") == doctest::Approx(expected).epsilon(1e-12));
  CHECK(split.results() == whole.results());
}

TEST_CASE("segmentation: argmax takes the first maximum, f32 logits and given classes agree") {
  SegmentationMetric from_logits(3), from_classes(3);
  // pixel 0: tie between classes 1 and 2 -> 1; pixel 1: class 2.
  Tensor logits = Tensor::from_vector<float>({1, 1, 2, 3}, {0.f, 5.f, 5.f, 0.f, 1.f, 3.f});
  Tensor label = i64({1, 1, 2}, {1, 2});
  from_logits.update(logits, label);
  from_classes.update_classes(i64({1, 1, 2}, {1, 2}), label);
  CHECK(num(from_logits.results(), "pixel_acc") == 1.0);
  CHECK(from_logits.results() == from_classes.results());
}

TEST_CASE("segmentation: human-parts style skipping of all-background and all-ignored images") {
  SegmentationMetric skip(2, true), keep(2, false);
  Tensor label = i64({2, 1, 2}, {0, 0, 1, 0});  // image 0 all background, image 1 mixed
  Tensor pred = logits_for({2, 1, 2}, 2, {1, 1, 1, 0});
  skip.update(pred, label);
  keep.update(pred, label);
  CHECK(skip.results()["n_images"] == 1);
  CHECK(num(skip.results(), "mIoU") == doctest::Approx(1.0).epsilon(1e-12));  // image 1 alone is perfect
  CHECK(keep.results()["n_images"] == 2);
  CHECK(num(keep.results(), "mIoU") == doctest::Approx((1.0 / 3 + 1.0 / 3) / 2).epsilon(1e-12));
}

TEST_CASE("segmentation: errors name the offending tensor or value") {
  SegmentationMetric m(3);
  Tensor label = i64({1, 1, 2}, {0, 7});
  CHECK_THROWS_WITH_AS(m.update(logits_for({1, 1, 2}, 3, {0, 0}), label), doctest::Contains("label value 7"), Error);
  Tensor wrong_c = f64({1, 1, 2, 2}, {0, 0, 0, 0});
  CHECK_THROWS_WITH_AS(m.update(wrong_c, i64({1, 1, 2}, {0, 1})), doctest::Contains("prediction must have 3"), Error);
  Tensor wrong_hw = i64({1, 2, 1}, {0, 1});
  CHECK_THROWS_WITH_AS(m.update(logits_for({1, 1, 2}, 3, {0, 0}), wrong_hw), doctest::Contains("does not match prediction"), Error);
  Tensor f_label = f64({1, 1, 2}, {0, 1});
  CHECK_THROWS_WITH_AS(m.update(logits_for({1, 1, 2}, 3, {0, 0}), f_label), doctest::Contains("must be i64"), Error);
}

// ---------------------------------------------------------------- depth

// pred (1, 2, 3, 4), label (1, 0, 2, 5): valid pairs (1,1), (3,2), (4,5); squared errors 0, 1, 1 -> RMSE sqrt(2/3);
// |d|/g = 0, 1/2, 1/5 and d^2/g the same; ratios 1, 1.5, 1.25 -> delta1 (< 1.25, strict) = 1/3, delta2 = delta3 = 1.
TEST_CASE("depth: hand-computed RMSE, log-RMSE, relative errors and threshold accuracies") {
  DepthMetric m;
  m.update(f64({1, 2, 2, 1}, {1, 2, 3, 4}), f64({1, 2, 2, 1}, {1, 0, 2, 5}));
  json r = m.results();
  double log_sq = std::pow(std::log(2.0) - std::log(3.0), 2) + std::pow(std::log(5.0) - std::log(4.0), 2);
  CHECK(num(r, "rmse") == doctest::Approx(std::sqrt(2.0 / 3)).epsilon(1e-12));
  CHECK(num(r, "log_rmse") == doctest::Approx(std::sqrt(log_sq / 3)).epsilon(1e-12));
  CHECK(num(r, "abs_rel") == doctest::Approx(0.7 / 3).epsilon(1e-12));
  CHECK(num(r, "sq_rel") == doctest::Approx(0.7 / 3).epsilon(1e-12));
  CHECK(num(r, "delta1") == doctest::Approx(1.0 / 3).epsilon(1e-12));
  CHECK(num(r, "delta2") == 1.0);
  CHECK(num(r, "delta3") == 1.0);
  CHECK(r["n_valid"] == 3);
}

TEST_CASE("depth: pooled over pixels of all images, negative predictions clamped to 1e-9") {
  // Image 1: one valid pixel, error 3. Image 2: three valid pixels, error 1 each. Pooled RMSE = sqrt((9+3)/4);
  // the mean of per-image RMSEs would be 2.
  DepthMetric m;
  m.update(f64({1, 1, 2, 1}, {4, 9}), f64({1, 1, 2, 1}, {1, 0}));
  m.update(f64({1, 1, 3, 1}, {2, 3, 4}), f64({1, 1, 3, 1}, {1, 2, 3}));
  CHECK(num(m.results(), "rmse") == doctest::Approx(std::sqrt(3.0)).epsilon(1e-12));

  DepthMetric neg;
  neg.update(f64({1, 1, 1, 1}, {-1.0}), f64({1, 1, 1}, {2.0}));  // label {N,H,W} accepted too
  CHECK(num(neg.results(), "rmse") == doctest::Approx(2.0 - 1e-9).epsilon(1e-12));
  CHECK(num(neg.results(), "log_rmse") == doctest::Approx(std::log(2.0) - std::log(1e-9)).epsilon(1e-12));
}

TEST_CASE("depth: f32 input agrees with f64 and shape errors name the tensors") {
  DepthMetric a, b;
  a.update(f64({1, 2, 2, 1}, {1, 2, 3, 4}), f64({1, 2, 2, 1}, {1, 0, 2, 5}));
  b.update(Tensor::from_vector<float>({1, 2, 2, 1}, {1, 2, 3, 4}), Tensor::from_vector<float>({1, 2, 2, 1}, {1, 0, 2, 5}));
  CHECK(num(b.results(), "rmse") == doctest::Approx(num(a.results(), "rmse")).epsilon(1e-7));
  Tensor pred = f64({1, 2, 2, 1}, {1, 2, 3, 4});
  pred.set_name("depth_pred");
  CHECK_THROWS_WITH_AS(a.update(pred, f64({1, 2, 3, 1}, {1, 1, 1, 1, 1, 1})),
                       doctest::Contains("'depth_pred' f64 cpu [1, 2, 2, 1]"), Error);
  CHECK_THROWS_WITH_AS(a.update(f64({1, 2, 2, 2}, std::vector<double>(8, 1.0)), f64({1, 2, 2, 1}, {1, 1, 1, 1})),
                       doctest::Contains("must have 1 channel"), Error);
}

// ---------------------------------------------------------------- normals

TEST_CASE("normals: angles of 0, 90 and 45 degrees, invalid pixels skipped") {
  // pixel 0: (0,0,2) vs (0,0,1) -> 0; pixel 1: (1,0,0) vs (0,1,0) -> 90; pixel 2: (1,1,0) vs (1,0,0) -> 45;
  // pixel 3: label zero -> invalid.
  NormalsMetric m;
  m.update(f64({1, 2, 2, 3}, {0, 0, 2, 1, 0, 0, 1, 1, 0, 5, 5, 5}),
           f64({1, 2, 2, 3}, {0, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0}));
  json r = m.results();
  CHECK(r["n_valid"] == 3);
  CHECK(num(r, "mean") == doctest::Approx(45.0).epsilon(1e-6));
  CHECK(num(r, "median") == doctest::Approx(45.0).epsilon(1e-6));
  CHECK(num(r, "rmse") == doctest::Approx(std::sqrt((0.0 + 8100.0 + 2025.0) / 3)).epsilon(1e-6));
  CHECK(num(r, "11.25") == doctest::Approx(100.0 / 3).epsilon(1e-12));
  CHECK(num(r, "22.5") == doctest::Approx(100.0 / 3).epsilon(1e-12));
  CHECK(num(r, "30") == doctest::Approx(100.0 / 3).epsilon(1e-12));
}

TEST_CASE("normals: even count median averages the middle two, thresholds over the split") {
  // Angles 0 (x2, second batch), 90, 45, 180 and 20 degrees: sorted 0 0 20 45 90 180 -> median (20+45)/2.
  NormalsMetric m;
  double c20 = std::cos(20 * kPi / 180), s20 = std::sin(20 * kPi / 180);
  m.update(f64({1, 1, 4, 3}, {1, 0, 0, 1, 1, 0, -1, 0, 0, c20, s20, 0}),
           f64({1, 1, 4, 3}, {0, 1, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0}));
  m.update(f64({1, 1, 2, 3}, {0, 3, 0, 0, 0, -1}), f64({1, 1, 2, 3}, {0, 1, 0, 0, 0, -1}));
  json r = m.results();
  CHECK(r["n_valid"] == 6);
  CHECK(num(r, "median") == doctest::Approx(32.5).epsilon(1e-6));
  CHECK(num(r, "mean") == doctest::Approx((0 + 0 + 20 + 45 + 90 + 180) / 6.0).epsilon(1e-6));
  CHECK(num(r, "11.25") == doctest::Approx(200.0 / 6).epsilon(1e-12));
  CHECK(num(r, "22.5") == doctest::Approx(300.0 / 6).epsilon(1e-12));
  CHECK(num(r, "30") == doctest::Approx(300.0 / 6).epsilon(1e-12));
}

// ---------------------------------------------------------------- saliency

// Image 1: probabilities (0.95, 0.52, 0.33, 0.10), label (1, 1, 0, 0). Thresholds 0.20, 0.25, ..., 0.90:
//   t in {0.20, 0.25, 0.30}: predicted {0,1,2}: P 2/3, R 1, IoU 2/3
//   t in {0.35 .. 0.50}:     predicted {0,1}:   P 1,   R 1, IoU 1
//   t in {0.55 .. 0.90}:     predicted {0}:     P 1,   R 1/2, IoU 1/2
// Image 2: probabilities (0.95, 0.1, 0.1, 0.1), label (0, 0, 0, 1): P 0, R 0, IoU 0 at every threshold.
// Means over the two images: F = 0.4, 0.5, 1/3 in the three ranges; mean IoU 1/3, 1/2, 1/4.
TEST_CASE("saliency: per-image precision/recall/IoU averaged over images, maxF and max mIoU") {
  SaliencyMetric m;
  REQUIRE(m.thresholds().size() == 15);
  CHECK(m.thresholds()[1] == doctest::Approx(0.25));
  CHECK(m.thresholds()[14] == doctest::Approx(0.9));
  std::vector<double> probs = {0.95, 0.52, 0.33, 0.10, 0.95, 0.1, 0.1, 0.1};
  std::vector<double> logits;
  for (double p : probs) logits.push_back(logit(p));
  m.update(f64({2, 2, 2, 1}, logits), f64({2, 2, 2, 1}, {1, 1, 0, 0, 0, 0, 0, 1}));
  json r = m.results();
  CHECK(num(r, "maxF") == doctest::Approx(0.5).epsilon(1e-9));
  CHECK(num(r, "mIoU") == doctest::Approx(0.5).epsilon(1e-9));
  CHECK(r["F"][0].get<double>() == doctest::Approx(0.4).epsilon(1e-9));
  CHECK(r["F"][6].get<double>() == doctest::Approx(0.5).epsilon(1e-9));
  CHECK(r["F"][7].get<double>() == doctest::Approx(1.0 / 3).epsilon(1e-9));
  CHECK(r["mIoUs"][2].get<double>() == doctest::Approx(1.0 / 3).epsilon(1e-9));
  CHECK(r["mIoUs"][14].get<double>() == doctest::Approx(0.25).epsilon(1e-9));
  CHECK(r["mPrec"][0].get<double>() == doctest::Approx(1.0 / 3).epsilon(1e-9));
  CHECK(r["mRec"][14].get<double>() == doctest::Approx(0.25).epsilon(1e-9));
  CHECK(r["n_images"] == 2);
}

TEST_CASE("saliency: F with beta^2 = 0.3 differs from F1, two-channel logits, empty masks give IoU 1") {
  // P = 1, R = 1/2 at every threshold: F1 = 2/3, F(beta^2 = 0.3) = 1.3 * 0.5 / (0.3 + 0.5) = 0.8125.
  SaliencyMetric one, two;
  one.update(f64({1, 1, 2, 1}, {logit(0.95), logit(0.1)}), f64({1, 1, 2, 1}, {1, 1}));
  two.update(f64({1, 1, 2, 2}, {0.0, logit(0.95), 0.0, logit(0.1)}), f64({1, 1, 2}, {1, 1}));
  CHECK(num(one.results(), "maxF") == doctest::Approx(2.0 / 3).epsilon(1e-9));
  CHECK(num(one.results(), "maxF_beta2_0.3") == doctest::Approx(0.8125).epsilon(1e-9));
  CHECK(num(two.results(), "maxF") == doctest::Approx(2.0 / 3).epsilon(1e-9));

  SaliencyMetric empty;  // no salient pixel and none predicted: the reference's jaccard returns 1
  empty.update(f64({1, 1, 2, 1}, {logit(0.1), logit(0.1)}), f64({1, 1, 2, 1}, {0, 0}));
  CHECK(num(empty.results(), "mIoU") == 1.0);
  CHECK(num(empty.results(), "maxF") == 0.0);
}

// ---------------------------------------------------------------- edge

TEST_CASE("edge matching: a shifted edge within the tolerance matches, outside it does not") {
  // 20x20, ground-truth edge in column 5, predicted edge in column 5 + shift; radius 2 pixels.
  const int64_t h = 20, w = 20;
  for (int shift : {0, 1, 2, 3}) {
    std::vector<uint8_t> gt(h * w, 0), pred(h * w, 0);
    for (int64_t y = 0; y < h; ++y) { gt[size_t(y * w + 5)] = 1; pred[size_t(y * w + 5 + shift)] = 1; }
    INFO("shift " << shift);
    CHECK(match_edge_pixels(pred.data(), gt.data(), h, w, 2.0) == (shift <= 2 ? 20 : 0));
  }
}

TEST_CASE("edge matching: augmenting paths find the matching the nearest-first greedy pass misses") {
  // 2x5 image, radius 2. gt A = (0,2), B = (1,4); pred P = (0,3), Q = (0,0).
  // |A-P| = 1, |B-P| = sqrt 2, |A-Q| = 2, |B-Q| > 2. Nearest-first gives A-P and leaves B alone; the maximum
  // matching is A-Q, B-P.
  std::vector<uint8_t> gt(10, 0), pred(10, 0);
  gt[2] = gt[9] = 1;
  pred[3] = pred[0] = 1;
  CHECK(match_edge_pixels(pred.data(), gt.data(), 2, 5, 2.0) == 2);
  CHECK(match_edge_pixels(pred.data(), gt.data(), 2, 5, 1.9) == 1);  // Q out of A's reach
}

namespace {

// A plain Kuhn's algorithm on the explicit graph, restarted from scratch: the reference for the warm-started search.
int64_t brute_force_matching(const std::vector<double>& score, const std::vector<uint8_t>& gt, int64_t h, int64_t w,
                             double t, double radius) {
  std::vector<int64_t> gts, preds;
  for (int64_t i = 0; i < h * w; ++i) {
    if (gt[size_t(i)]) gts.push_back(i);
    if (score[size_t(i)] >= t) preds.push_back(i);
  }
  std::vector<std::vector<size_t>> adj(gts.size());
  for (size_t a = 0; a < gts.size(); ++a) {
    for (size_t b = 0; b < preds.size(); ++b) {
      int64_t dy = gts[a] / w - preds[b] / w, dx = gts[a] % w - preds[b] % w;
      if (double(dy * dy + dx * dx) <= radius * radius) adj[a].push_back(b);
    }
  }
  std::vector<int64_t> owner(preds.size(), -1);
  std::vector<char> seen;
  std::function<bool(size_t)> try_gt = [&](size_t a) {
    for (size_t b : adj[a]) {
      if (seen[b]) continue;
      seen[b] = 1;
      if (owner[b] < 0 || try_gt(size_t(owner[b]))) { owner[b] = int64_t(a); return true; }
    }
    return false;
  };
  int64_t matched = 0;
  for (size_t a = 0; a < gts.size(); ++a) {
    seen.assign(preds.size(), 0);
    matched += try_gt(a) ? 1 : 0;
  }
  return matched;
}

}  // namespace

TEST_CASE("edge matching: maximum matching at every threshold, as a from-scratch Kuhn's algorithm finds") {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  for (int trial = 0; trial < 20; ++trial) {
    const int64_t h = 9 + trial % 4, w = 11 + trial % 3;
    const double radius = 1.0 + 0.5 * (trial % 4);
    std::vector<double> score(size_t(h * w));
    std::vector<uint8_t> gt(size_t(h * w));
    for (size_t i = 0; i < score.size(); ++i) {
      score[i] = u(rng) < 0.3 ? u(rng) : 0.0;
      gt[i] = u(rng) < 0.25;
    }
    std::vector<double> thresholds = {0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95};
    EdgeImageCounts c = match_edges(score.data(), gt.data(), h, w, thresholds, radius, false);
    for (size_t j = 0; j < thresholds.size(); ++j) {
      INFO("trial " << trial << " threshold " << thresholds[j]);
      CHECK(c.matched[j] == brute_force_matching(score, gt, h, w, thresholds[j], radius));
      int64_t predicted = std::count_if(score.begin(), score.end(), [&](double s) { return s >= thresholds[j]; });
      CHECK(c.pred[j] == predicted);
    }
    CHECK(c.gt == std::count(gt.begin(), gt.end(), uint8_t(1)));
  }
}

TEST_CASE("edge thinning: a 3-pixel bar becomes its middle line, 1-pixel strokes and dots stay") {
  // 7x14 image, bar in rows 2-4, columns 2-11. The first subiteration removes the top row (its pixels have x1 = E
  // set but x2 = NE, x3 = N clear and x8 = SE set), the second the bottom row; the middle row remains.
  const int64_t h = 7, w = 14;
  std::vector<uint8_t> bar(h * w, 0);
  for (int64_t y = 2; y <= 4; ++y)
    for (int64_t x = 2; x <= 11; ++x) bar[size_t(y * w + x)] = 1;
  thin_edges(bar, h, w);
  int64_t total = 0;
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      total += bar[size_t(y * w + x)];
      if (x >= 3 && x <= 10) CHECK(bar[size_t(y * w + x)] == (y == 3 ? 1 : 0));
    }
  CHECK(total <= 10);

  std::vector<uint8_t> strokes(h * w, 0);  // a horizontal line, a vertical line and a dot: already thin
  for (int64_t x = 1; x <= 6; ++x) strokes[size_t(1 * w + x)] = 1;
  for (int64_t y = 3; y <= 6; ++y) strokes[size_t(y * w + 9)] = 1;
  strokes[size_t(5 * w + 2)] = 1;
  std::vector<uint8_t> before = strokes;
  thin_edges(strokes, h, w);
  CHECK(strokes == before);

  // A 2x2 block: the first subiteration deletes its NW, NE and SE pixels at once (each satisfies G1-G3), leaving SW.
  std::vector<uint8_t> block(16, 0);
  block[5] = block[6] = block[9] = block[10] = 1;
  thin_edges(block, 4, 4);
  std::vector<uint8_t> expected(16, 0);
  expected[9] = 1;
  CHECK(block == expected);
}

namespace {

// The documented thinning rule applied literally: every subiteration scans every pixel of the whole image.
void thin_by_full_scans(std::vector<uint8_t>& m, int64_t h, int64_t w) {
  const int dy[8] = {0, -1, -1, -1, 0, 1, 1, 1}, dx[8] = {1, 1, 0, -1, -1, -1, 0, 1};  // x1 = E ... x8 = SE
  for (bool changed = true; changed;) {
    changed = false;
    for (int sub = 0; sub < 2; ++sub) {
      std::vector<int64_t> doomed;
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) {
          if (!m[size_t(y * w + x)]) continue;
          bool v[10];
          for (int k = 0; k < 8; ++k) {
            int64_t yy = y + dy[k], xx = x + dx[k];
            v[k + 1] = yy >= 0 && yy < h && xx >= 0 && xx < w && m[size_t(yy * w + xx)];
          }
          v[9] = v[1];
          int xh = 0, n1 = 0, n2 = 0;
          for (int i = 1; i <= 4; ++i) {
            xh += !v[2 * i - 1] && (v[2 * i] || v[2 * i + 1]);
            n1 += v[2 * i - 1] || v[2 * i];
            n2 += v[2 * i] || v[2 * i + 1];
          }
          bool g3 = sub == 0 ? !((v[2] || v[3] || !v[8]) && v[1]) : !((v[6] || v[7] || !v[4]) && v[5]);
          if (xh == 1 && std::min(n1, n2) >= 2 && std::min(n1, n2) <= 3 && g3) doomed.push_back(y * w + x);
        }
      for (int64_t i : doomed) m[size_t(i)] = 0;
      changed = changed || !doomed.empty();
    }
  }
}

}  // namespace

TEST_CASE("edge thinning: same result as the rule applied by full scans, on random blobs") {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(0, 1);
  for (int trial = 0; trial < 30; ++trial) {
    const int64_t h = 8 + trial % 9, w = 10 + trial % 7;
    const double density = 0.2 + 0.6 * u(rng);
    std::vector<uint8_t> a(size_t(h * w));
    for (auto& v : a) v = u(rng) < density;
    std::vector<uint8_t> b = a;
    thin_edges(a, h, w);
    thin_by_full_scans(b, h, w);
    INFO("trial " << trial);
    CHECK(a == b);
  }
}

TEST_CASE("edge: thinning a thick predicted band before matching, as SEISM does") {
  // gt: column 5 of 20x20; prediction: columns 4-6 (all rows) at p = 0.9. Unthinned: 60 predicted, 20 matched ->
  // P 1/3, F 0.5. Thinned by hand: subiteration 1 deletes column 6 and row 0 (x1 = 0, or x2 = x3 = 0 with x8 set),
  // subiteration 2 deletes column 4 and both pixels of row 19 (x5 = 0, or x6 = x7 = 0 with x4 set); what is left,
  // column 5 rows 1-18, is stable. 18 predicted, 18 matched: P 1, R 0.9, F 18/19.
  const int64_t h = 20, w = 20;
  std::vector<double> gt(h * w, 0.0), logits(h * w, -20.0);
  for (int64_t y = 0; y < h; ++y) {
    gt[size_t(y * w + 5)] = 1;
    for (int64_t x = 4; x <= 6; ++x) logits[size_t(y * w + x)] = logit(0.9);
  }
  EdgeMetric thick(2.0 / std::sqrt(800.0), 99, false), thinned(2.0 / std::sqrt(800.0), 99, true);
  thick.update(f64({1, h, w, 1}, logits), f64({1, h, w, 1}, gt));
  thinned.update(f64({1, h, w, 1}, logits), f64({1, h, w, 1}, gt));
  CHECK(num(thick.results(), "odsF") == doctest::Approx(0.5).epsilon(1e-12));
  CHECK(num(thinned.results(), "odsF") == doctest::Approx(18.0 / 19).epsilon(1e-12));
  CHECK(num(thinned.results(), "odsP") == 1.0);
  CHECK(num(thinned.results(), "odsR") == doctest::Approx(0.9).epsilon(1e-12));
}

TEST_CASE("edge: odsF on a tiny image with a shifted edge inside and outside the tolerance") {
  const int64_t h = 20, w = 20;
  const double diag = std::sqrt(double(h * h + w * w));
  std::vector<double> gt(h * w, 0.0);
  for (int64_t y = 0; y < h; ++y) gt[size_t(y * w + 5)] = 1;
  for (int shift : {2, 3}) {
    std::vector<double> logits(h * w, -20.0);
    for (int64_t y = 0; y < h; ++y) logits[size_t(y * w + 5 + shift)] = 20.0;
    EdgeMetric m(2.0 / diag);  // radius 2 pixels
    m.update(f64({1, h, w, 1}, logits), f64({1, h, w, 1}, gt));
    INFO("shift " << shift);
    CHECK(num(m.results(), "odsF") == doctest::Approx(shift <= 2 ? 1.0 : 0.0));
  }
}

// Ground truth: column 5 (20 px). Prediction: column 6 rows 0-9 at p = 0.905, rows 10-19 at 0.355; 5 far
// pixels (column 15) at 0.605. Thresholds 0.01 ... 0.99:
//   t <= 0.35:         25 predicted, 20 matched: P 0.8, R 1,   F 8/9
//   0.36 <= t <= 0.60: 15 predicted, 10 matched: P 2/3, R 1/2, F 4/7
//   0.61 <= t <= 0.90: 10 predicted, 10 matched: P 1,   R 1/2, F 2/3
//   t >= 0.91:         nothing predicted: P 1, R 0 (SEISM's convention), F 0
TEST_CASE("edge: F per threshold from pooled counts, ODS at the best threshold") {
  const int64_t h = 20, w = 20;
  std::vector<double> gt(h * w, 0.0), logits(h * w, -20.0);
  for (int64_t y = 0; y < h; ++y) {
    gt[size_t(y * w + 5)] = 1;
    logits[size_t(y * w + 6)] = logit(y < 10 ? 0.905 : 0.355);
  }
  for (int64_t y = 0; y < 5; ++y) logits[size_t(y * w + 15)] = logit(0.605);
  EdgeMetric m(2.0 / std::sqrt(800.0));
  REQUIRE(m.thresholds().size() == 99);
  m.update(f64({1, h, w, 1}, logits), f64({1, h, w, 1}, gt));
  json r = m.results();
  CHECK(num(r, "odsF") == doctest::Approx(8.0 / 9).epsilon(1e-12));
  CHECK(num(r, "odsP") == doctest::Approx(0.8).epsilon(1e-12));
  CHECK(num(r, "odsR") == 1.0);
  CHECK(num(r, "odsT") == doctest::Approx(0.01));
  CHECK(r["F"][34].get<double>() == doctest::Approx(8.0 / 9).epsilon(1e-12));  // t = 0.35
  CHECK(r["F"][35].get<double>() == doctest::Approx(4.0 / 7).epsilon(1e-12));  // t = 0.36
  CHECK(r["F"][59].get<double>() == doctest::Approx(4.0 / 7).epsilon(1e-12));  // t = 0.60
  CHECK(r["F"][60].get<double>() == doctest::Approx(2.0 / 3).epsilon(1e-12));  // t = 0.61
  CHECK(r["F"][89].get<double>() == doctest::Approx(2.0 / 3).epsilon(1e-12));  // t = 0.90
  CHECK(r["F"][90].get<double>() == 0.0);                                      // t = 0.91
  CHECK(r["precision"][90].get<double>() == 1.0);
  CHECK(num(r, "oisF") == doctest::Approx(8.0 / 9).epsilon(1e-12));  // one image: OIS = ODS
}

TEST_CASE("edge: counts pool over images (ODS) while OIS picks each image's threshold") {
  // Image 1: gt column 5, prediction column 5 at p = 0.9 plus 20 noise pixels at 0.3 -> best t > 0.3 (F 1).
  // Image 2: gt column 5, prediction column 5 at p = 0.2 -> best t <= 0.2 (F 1). No single threshold serves
  // both: at t <= 0.2: P 40/60, R 1 -> F 0.8; at 0.3 < t <= 0.9: P 1, R 1/2 -> F 2/3; so ODS 0.8, OIS 1.
  const int64_t h = 20, w = 20;
  std::vector<double> gt(2 * h * w, 0.0), logits(2 * h * w, -20.0);
  for (int64_t y = 0; y < h; ++y) {
    gt[size_t(y * w + 5)] = gt[size_t(h * w + y * w + 5)] = 1;
    logits[size_t(y * w + 5)] = logit(0.9);
    logits[size_t(y * w + 15)] = logit(0.3);
    logits[size_t(h * w + y * w + 5)] = logit(0.2);
  }
  EdgeMetric m(2.0 / std::sqrt(800.0));
  m.update(f64({2, h, w, 1}, logits), f64({2, h, w, 1}, gt));
  json r = m.results();
  CHECK(num(r, "odsF") == doctest::Approx(0.8).epsilon(1e-12));
  CHECK(num(r, "oisF") == doctest::Approx(1.0).epsilon(1e-12));
}

TEST_CASE("edge: errors for a multi-channel prediction and a mismatched label") {
  EdgeMetric m(0.011);
  CHECK_THROWS_WITH_AS(m.update(f64({1, 1, 1, 2}, {0, 0}), f64({1, 1, 1, 1}, {0})),
                       doctest::Contains("must have 1 channel"), Error);
  CHECK_THROWS_WITH_AS(m.update(f64({1, 1, 2, 1}, {0, 0}), f64({1, 1, 1, 1}, {0})),
                       doctest::Contains("does not match prediction"), Error);
}

// ---------------------------------------------------------------- multi-task delta

// The paper's NYUD numbers (single-task 33.18 mIoU / 0.667 RMSE):
//   MTI-Net 35.12 / 0.620: ((35.12-33.18)/33.18 - (0.620-0.667)/0.667) / 2 * 100 = (5.8469 + 7.0465) / 2 = +6.4467
//   multi-task baseline 32.09 / 0.668: (-3.2851 - 0.1499) / 2 = -1.7175 (paper: -1.71)
TEST_CASE("multi-task delta: the paper's MTI-Net and baseline numbers") {
  json stl = {{"semseg", {{"mIoU", 33.18}}}, {"depth", {{"rmse", 0.667}}}};
  json mti = {{"semseg", {{"mIoU", 35.12}}}, {"depth", {{"rmse", 0.620}}}};
  json base = {{"semseg", {{"mIoU", 32.09}}}, {"depth", {{"rmse", 0.668}}}};
  json d = multitask_delta(mti, stl);
  double expected = ((35.12 - 33.18) / 33.18 - (0.620 - 0.667) / 0.667) / 2 * 100;
  CHECK(num(d, "dm") == doctest::Approx(expected).epsilon(1e-12));
  CHECK(num(d, "dm") == doctest::Approx(6.4467).epsilon(1e-4));
  CHECK(d["per_task"]["semseg"].get<double>() == doctest::Approx(5.8469).epsilon(1e-4));
  CHECK(d["per_task"]["depth"].get<double>() == doctest::Approx(7.0465).epsilon(1e-4));
  CHECK(num(multitask_delta(base, stl), "dm") == doctest::Approx(-1.7175).epsilon(1e-4));
}

TEST_CASE("multi-task delta: signs for every task, and errors") {
  // Each task 10% better than its single-task result: +10 for all, whatever the direction.
  json stl = {{"semseg", {{"mIoU", 0.4}}},   {"human_parts", {{"mIoU", 0.5}}}, {"sal", {{"mIoU", 0.6}}},
              {"depth", {{"rmse", 0.5}}},    {"normals", {{"mean", 20.0}}},    {"edge", {{"odsF", 0.7}}}};
  json mtl = {{"semseg", {{"mIoU", 0.44}}},  {"human_parts", {{"mIoU", 0.55}}}, {"sal", {{"mIoU", 0.66}}},
              {"depth", {{"rmse", 0.45}}},   {"normals", {{"mean", 18.0}}},     {"edge", {{"odsF", 0.77}}}};
  json d = multitask_delta(mtl, stl);
  CHECK(num(d, "dm") == doctest::Approx(10.0).epsilon(1e-12));
  for (const auto& item : d["per_task"].items()) CHECK(item.value().get<double>() == doctest::Approx(10.0));

  CHECK_THROWS_WITH_AS(multitask_delta(mtl, json{{"semseg", {{"mIoU", 0.4}}}}),
                       doctest::Contains("has multi-task results but no single-task results"), Error);
  CHECK_THROWS_WITH_AS(multitask_delta(json{{"depth", {{"mean", 1.0}}}}, json{{"depth", {{"rmse", 1.0}}}}),
                       doctest::Contains("no number 'rmse'"), Error);
  CHECK_THROWS_WITH_AS(multitask_delta(json{{"flow", {{"epe", 1.0}}}}, json{{"flow", {{"epe", 1.0}}}}),
                       doctest::Contains("no headline metric for task 'flow'"), Error);
}

// ---------------------------------------------------------------- the set

TEST_CASE("metric set: one metric per task, results keyed by task, dataset settings") {
  MetricOptions nyud = metric_options_for("nyud");
  CHECK(nyud.semseg_classes == 40);
  CHECK(nyud.edge_max_dist == 0.011);
  CHECK(metric_options_for("pascal").edge_max_dist == 0.0075);
  CHECK_THROWS_WITH_AS(metric_options_for("coco"), doctest::Contains("unknown dataset 'coco'"), Error);

  MetricOptions o;
  o.semseg_classes = 3;
  MetricSet set({"semseg", "depth"}, o);
  std::map<std::string, Tensor> preds = {{"semseg", logits_for({1, 2, 3}, 3, {0, 1, 1, 1, 0, 2})},
                                         {"depth", f64({1, 2, 2, 1}, {1, 2, 3, 4})}};
  std::map<std::string, Tensor> labels = {{"semseg", i64({1, 2, 3}, {0, 0, 1, 1, 2, 255})},
                                          {"depth", f64({1, 2, 2, 1}, {1, 0, 2, 5})}};
  set.update(preds, labels);
  json r = set.results();
  CHECK(num(r["semseg"], "mIoU") == doctest::Approx(1.0 / 3).epsilon(1e-12));
  CHECK(num(r["depth"], "rmse") == doctest::Approx(std::sqrt(2.0 / 3)).epsilon(1e-12));
  labels.erase("depth");
  CHECK_THROWS_WITH_AS(set.update(preds, labels), doctest::Contains("no label for task 'depth'"), Error);
  set.reset();
  CHECK(set.results()["semseg"]["n_valid"] == 0);
  CHECK_THROWS_WITH_AS(make_metric("flow", o), doctest::Contains("unknown task 'flow'"), Error);
}
