#include "data/synth_dataset.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>

#include "core/error.h"
#include "core/file_io.h"
#include "data/image.h"
#include "data/npy.h"

namespace mtinet::synth {

namespace {

uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

bool depth_jump(float a, float b) {
  return std::abs(double(a) - double(b)) > kDepthJumpFraction * std::min(double(a), double(b));
}

}  // namespace

std::vector<float> compute_edges(const SceneRender& r) {
  std::vector<float> edge(size_t(r.height) * size_t(r.width), 0.0f);
  auto visit = [&](size_t i, size_t j) {
    bool boundary = r.label[i] != r.label[j] || (r.surface[i] != r.surface[j] && depth_jump(r.depth[i], r.depth[j]));
    if (boundary) edge[i] = edge[j] = 1.0f;
  };
  for (int row = 0; row < r.height; ++row) {
    for (int col = 0; col < r.width; ++col) {
      size_t i = size_t(row) * size_t(r.width) + size_t(col);
      if (col + 1 < r.width) visit(i, i + 1);
      if (row + 1 < r.height) visit(i, i + size_t(r.width));
    }
  }
  return edge;
}

void apply_sensor_model(const Scene& scene, SceneRender& r, Rng& rng) {
  const size_t n = size_t(r.height) * size_t(r.width);
  std::vector<uint8_t> invalid(n, 0);
  for (size_t i = 0; i < n; ++i)
    if (!(r.depth[i] >= scene.min_range && r.depth[i] <= scene.max_range)) invalid[i] = 1;
  // Holes: a few ellipses, as a structured-light sensor loses dark, shiny or oblique patches.
  int holes = int(rng.randint(4));
  for (int h = 0; h < holes; ++h) {
    double cy = rng.uniform(0, r.height), cx = rng.uniform(0, r.width);
    double ry = rng.uniform(0.015, 0.06) * r.height, rx = rng.uniform(0.015, 0.06) * r.width;
    int y0 = std::max(0, int(cy - ry)), y1 = std::min(r.height - 1, int(cy + ry));
    int x0 = std::max(0, int(cx - rx)), x1 = std::min(r.width - 1, int(cx + rx));
    for (int y = y0; y <= y1; ++y)
      for (int x = x0; x <= x1; ++x) {
        double dy = (y + 0.5 - cy) / ry, dx = (x + 0.5 - cx) / rx;
        if (dx * dx + dy * dy <= 1) invalid[size_t(y) * size_t(r.width) + size_t(x)] = 1;
      }
  }
  // Scattered single-pixel dropouts (0.2% of pixels).
  int64_t dropouts = int64_t(n) / 500;
  for (int64_t k = 0; k < dropouts; ++k) invalid[size_t(rng.randint(int64_t(n)))] = 1;
  for (size_t i = 0; i < n; ++i) {
    if (!invalid[i]) continue;
    r.depth[i] = 0.0f;
    r.normal[3 * i] = r.normal[3 * i + 1] = r.normal[3 * i + 2] = 0.0f;
  }
}

uint64_t sample_seed(uint64_t seed, int64_t index) {
  return mix64(mix64(seed + 0x9E3779B97F4A7C15ull) + uint64_t(index));
}

std::string sample_id(int64_t index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%06lld", static_cast<long long>(index));
  return buf;
}

Scene sample_scene(uint64_t seed, int64_t index, int height, int width) {
  Rng rng(sample_seed(seed, index));
  return random_scene(rng, height, width);
}

SynthSample synthesize_sample(uint64_t seed, int64_t index, int height, int width) {
  // The scene, the pixel noise and the sensor model draw from separate streams, so changing one (e.g. the noise
  // level) leaves the others as they were.
  Scene scene = sample_scene(seed, index, height, width);
  Rng noise_rng(mix64(sample_seed(seed, index) ^ 0x6E6F697365ull));
  Rng sensor_rng(mix64(sample_seed(seed, index) ^ 0x73656E736F72ull));
  SceneRender render = render_scene(scene, noise_rng);
  SynthSample s;
  s.height = height;
  s.width = width;
  s.edge = compute_edges(render);
  apply_sensor_model(scene, render, sensor_rng);
  s.rgb = std::move(render.rgb);
  s.label = std::move(render.label);
  s.depth = std::move(render.depth);
  s.normal = std::move(render.normal);
  return s;
}

void split_ids(int64_t count, double val_fraction, uint64_t seed, std::vector<int64_t>& train,
               std::vector<int64_t>& val) {
  MTINET_CHECK(val_fraction >= 0 && val_fraction <= 1, "val fraction must be in [0, 1], got ", val_fraction);
  std::vector<int64_t> ids(size_t(std::max<int64_t>(count, 0)));
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = int64_t(i);
  Rng rng(mix64(seed ^ 0x73706C6974ull));
  for (size_t i = ids.size(); i > 1; --i) std::swap(ids[i - 1], ids[size_t(rng.randint(int64_t(i)))]);
  size_t n_val = size_t(std::llround(double(count) * val_fraction));
  val.assign(ids.begin(), ids.begin() + std::ptrdiff_t(n_val));
  train.assign(ids.begin() + std::ptrdiff_t(n_val), ids.end());
  std::sort(val.begin(), val.end());
  std::sort(train.begin(), train.end());
}

namespace {

template <class T>
Tensor tensor_of(const std::vector<T>& values, const Shape& shape) {
  Tensor t = Tensor::empty(shape, dtype_of<T>());
  std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(T));
  return t;
}

void write_sample(const std::string& dir, const std::string& id, const SynthSample& s) {
  const int64_t h = s.height, w = s.width;
  save_png(dir + "/images/" + id + ".png", tensor_of(s.rgb, {h, w, 3}));
  save_png(dir + "/segmentation/" + id + ".png", tensor_of(s.label, {h, w, 1}));
  save_npy(dir + "/depth/" + id + ".npy", tensor_of(s.depth, {h, w}));
  save_npy(dir + "/normals/" + id + ".npy", tensor_of(s.normal, {h, w, 3}));
  save_npy(dir + "/edge/" + id + ".npy", tensor_of(s.edge, {h, w}));
}

}  // namespace

void for_each_sample(int64_t count, const std::function<void(int64_t)>& sample,
                     const std::function<void(int64_t, int64_t)>& progress) {
  // Exceptions must not leave an OpenMP region: the first is kept and rethrown after the loop.
  std::exception_ptr failure;
  std::atomic<bool> failed{false};
  int64_t done = 0;
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t i = 0; i < count; ++i) {
    if (failed.load()) continue;  // after a failure the remaining samples are skipped
    try {
      sample(i);
    } catch (...) {
#pragma omp critical(synth_failure)
      if (!failure) failure = std::current_exception();
      failed.store(true);
    }
#pragma omp critical(synth_progress)
    {
      ++done;
      if (progress) progress(done, count);
    }
  }
  if (failure) std::rethrow_exception(failure);
}

void create_subdirs(const std::string& root, const std::vector<std::string>& subdirs) {
  for (const std::string& sub : subdirs) {
    std::error_code ec;
    std::filesystem::create_directories(root + "/" + sub, ec);
    MTINET_CHECK(!ec, "synth: cannot create '", root, "/", sub, "': ", ec.message());
  }
}

void write_id_list(const std::string& path, const std::vector<int64_t>& ids) {
  std::string text;
  for (int64_t i : ids) text += sample_id(i) + "\n";
  write_file_atomic(path, text.data(), text.size());
}

SynthSummary write_synth_dataset(const SynthOptions& o, const std::function<void(int64_t, int64_t)>& progress) {
  MTINET_CHECK(!o.out_dir.empty(), "synth: the output directory is empty");
  MTINET_CHECK(o.count > 0, "synth: the image count must be positive, got ", o.count);
  MTINET_CHECK(o.height >= 8 && o.width >= 8, "synth: the image size must be at least 8x8, got ", o.height, "x",
               o.width);
  SynthSummary summary;
  std::vector<int64_t> train, val;
  split_ids(o.count, o.val_fraction, o.seed, train, val);  // validates the fraction before anything is written
  summary.train = int64_t(train.size());
  summary.val = int64_t(val.size());
  create_subdirs(o.out_dir, {"images", "segmentation", "depth", "normals", "edge", "gt_sets"});

  for_each_sample(o.count, [&](int64_t i) {
    SynthSample s = synthesize_sample(o.seed, i, o.height, o.width);
    write_sample(o.out_dir, sample_id(i), s);
    SynthSummary local;
    for (size_t p = 0; p < s.label.size(); ++p) {
      local.class_pixels[s.label[p]]++;
      local.invalid_depth_pixels += s.depth[p] == 0.0f;
      local.edge_pixels += s.edge[p] != 0.0f;
    }
#pragma omp critical(synth_summary)
    {
      for (int k = 0; k <= kNumClasses; ++k) summary.class_pixels[size_t(k)] += local.class_pixels[size_t(k)];
      summary.total_pixels += int64_t(s.label.size());
      summary.invalid_depth_pixels += local.invalid_depth_pixels;
      summary.edge_pixels += local.edge_pixels;
    }
  }, progress);
  write_id_list(o.out_dir + "/gt_sets/train.txt", train);
  write_id_list(o.out_dir + "/gt_sets/val.txt", val);
  return summary;
}

}  // namespace mtinet::synth
