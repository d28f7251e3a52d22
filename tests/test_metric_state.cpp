// Metric states (eval/metric.h's MetricState), which sharded evaluation sums over processes: for every task's metric,
// the states of two halves of a split, added, give the metrics of the whole split -- counts exactly, sums of doubles
// within their reordering error -- and a state of the wrong size is refused.
#include <cmath>
#include <map>
#include <vector>

#include "core/rng.h"
#include "eval/metrics.h"
#include "test_util.h"

using namespace mtinet;

namespace {

constexpr int64_t kH = 12, kW = 16;

// One image's prediction and label per task, random but valid: some ignored pixels, some invalid depths/normals.
struct Image {
  std::map<std::string, Tensor> pred, label;
};

Image random_image(Rng& rng, const MetricOptions& o) {
  Image im;
  auto noise = [&](int64_t c, double lo, double hi) {
    Tensor t = Tensor::empty({1, kH, kW, c}, DType::F32);
    fill_uniform(t, rng, lo, hi);
    return t;
  };
  auto classes = [&](int64_t n) {
    Tensor t = Tensor::empty({1, kH, kW}, DType::I64);
    for (int64_t i = 0; i < kH * kW; ++i) t.data<int64_t>()[i] = rng.uniform() < 0.1 ? 255 : int64_t(rng.uniform() * double(n));
    return t;
  };
  auto binary = [&] {
    Tensor t = noise(1, 0, 1);
    for (int64_t i = 0; i < kH * kW; ++i) t.data<float>()[i] = t.data<float>()[i] < 0.2f ? 1.0f : 0.0f;
    return t;
  };
  im.pred["semseg"] = noise(o.semseg_classes, -2, 2);
  im.label["semseg"] = classes(o.semseg_classes);
  im.pred["human_parts"] = noise(o.human_parts_classes, -2, 2);
  im.label["human_parts"] = classes(o.human_parts_classes);
  im.pred["depth"] = noise(1, 0.5, 5);
  im.label["depth"] = noise(1, -1, 5);  // negative: clamped below to 0 = invalid
  for (int64_t i = 0; i < kH * kW; ++i) {
    float& d = im.label["depth"].data<float>()[i];
    d = std::max(d, 0.0f);
  }
  im.pred["normals"] = noise(3, -1, 1);
  im.label["normals"] = noise(3, -1, 1);
  im.pred["edge"] = noise(1, -4, 4);
  im.label["edge"] = binary();
  im.pred["sal"] = noise(1, -4, 4);
  im.label["sal"] = binary();
  return im;
}

}  // namespace

TEST_CASE("metric states of two halves of a split add up to the whole split's metrics") {
  MetricOptions o = metric_options_for("pascal");
  o.edge_thresholds = 9;  // fewer thresholds keep the test quick; the state's layout depends on the count only
  std::vector<std::string> tasks = {"semseg", "human_parts", "depth", "normals", "edge", "sal"};
  Rng rng(11);
  std::vector<Image> images;
  for (int i = 0; i < 5; ++i) images.push_back(random_image(rng, o));
  MetricSet whole(tasks, o), first(tasks, o), second(tasks, o);
  for (size_t i = 0; i < images.size(); ++i) {
    whole.update(images[i].pred, images[i].label);
    (i < 2 ? first : second).update(images[i].pred, images[i].label);
  }
  MetricState sum = first.state();
  sum.add(second.state());
  MetricSet merged(tasks, o);
  merged.load_state(sum);
  MetricState want = whole.state(), got = merged.state();
  CHECK(got.counts == want.counts);
  REQUIRE(got.sums.size() == want.sums.size());
  // Every sum is of non-negative terms (per-image sums, or the normals' per-pixel angles in a histogram bin): summed
  // in another order, n terms differ by at most (n - 1) roundings, n <= 5 * 12 * 16 = 960 pixels: 1.1e-13 relative.
  const double reorder = 960 * 1.2e-16;
  for (size_t i = 0; i < want.sums.size(); ++i) CHECK(got.sums[i] == doctest::Approx(want.sums[i]).epsilon(reorder));
  nlohmann::json a = merged.results(), b = whole.results();
  CHECK(a["semseg"] == b["semseg"]);  // counts only: exact
  CHECK(a["human_parts"] == b["human_parts"]);
  CHECK(a["edge"] == b["edge"]);
  CHECK(a["depth"]["delta1"] == b["depth"]["delta1"]);
  CHECK(a["normals"]["11.25"] == b["normals"]["11.25"]);
  CHECK(a["depth"]["rmse"].get<double>() == doctest::Approx(b["depth"]["rmse"].get<double>()).epsilon(reorder));
  CHECK(a["sal"]["maxF"].get<double>() == doctest::Approx(b["sal"]["maxF"].get<double>()).epsilon(reorder));
  // Sanity: the halves alone are other metrics.
  CHECK(first.results()["semseg"]["mIoU"] != b["semseg"]["mIoU"]);
}

TEST_CASE("a metric state of the wrong size is refused, naming the metric") {
  SegmentationMetric seg(4);
  MetricState s = SegmentationMetric(5).state();
  CHECK_THROWS_WITH(seg.load_state(s), doctest::Contains("segmentation metric: a state of 18 counts"));
  MetricState other = DepthMetric().state();
  CHECK_THROWS_WITH(s.add(other), doctest::Contains("different metrics"));
}
