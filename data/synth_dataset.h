// The procedural multi-task dataset: N random scenes rendered in parallel and written in the NYUD-v2 layout
// (images/, segmentation/, depth/, normals/, edge/, gt_sets/{train,val}.txt), so every NYUD reader takes it.
// Sample i depends only on (seed, i): the output is the same for any thread count.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "data/synth_raycast.h"

namespace mtinet::synth {

// One sample's ground truth, row-major. depth and normals carry the sensor model (0 / zero vector = invalid);
// edge is 1 where the label or the (clean) depth changes between 4-neighbours.
struct SynthSample {
  int height = 0, width = 0;
  std::vector<uint8_t> rgb;    // H*W*3
  std::vector<uint8_t> label;  // H*W, 0..40
  std::vector<float> depth;    // H*W metres, 0 = invalid
  std::vector<float> normal;   // H*W*3, unit or zero
  std::vector<float> edge;     // H*W, 0 or 1
};

// A pixel and its right/lower neighbour lie across a depth discontinuity when they see different surfaces whose
// depths differ by more than this fraction of the nearer one (touching surfaces, e.g. a box on the floor, do not).
constexpr double kDepthJumpFraction = 0.04;

// Edges from a clean render: both pixels of a 4-neighbour pair are edges when their labels differ or they lie
// across a depth discontinuity.
std::vector<float> compute_edges(const SceneRender& render);
// The simulated depth sensor: depths outside the scene's valid range, a few blob-shaped holes and scattered
// dropped pixels become 0, and their normals the zero vector.
void apply_sensor_model(const Scene& scene, SceneRender& render, Rng& rng);

uint64_t sample_seed(uint64_t seed, int64_t index);
std::string sample_id(int64_t index);  // "000123"
Scene sample_scene(uint64_t seed, int64_t index, int height, int width);
SynthSample synthesize_sample(uint64_t seed, int64_t index, int height, int width);

struct SynthOptions {
  std::string out_dir;
  int64_t count = 0;
  int height = 240, width = 320;
  uint64_t seed = 0;
  double val_fraction = 0.2;
};

struct SynthSummary {
  int64_t train = 0, val = 0;
  std::array<int64_t, kNumClasses + 1> class_pixels{};  // pixels per label 0..40 over all images
  int64_t total_pixels = 0, invalid_depth_pixels = 0, edge_pixels = 0;
};

// The deterministic split: round(count * val_fraction) ids chosen by a seeded shuffle go to val, each list sorted.
void split_ids(int64_t count, double val_fraction, uint64_t seed, std::vector<int64_t>& train,
               std::vector<int64_t>& val);

// Runs sample(i) for every i in [0, count) on OpenMP threads; progress(done, count) is called after each, one call
// at a time, and must not throw. The first exception of any sample is rethrown once the others have stopped (the
// samples not yet started are skipped). `sample` must guard what it shares with the other threads.
void for_each_sample(int64_t count, const std::function<void(int64_t)>& sample,
                     const std::function<void(int64_t, int64_t)>& progress);

// Creates root/<sub> for each of subdirs (and root), throwing with the folder's name when one cannot be created.
void create_subdirs(const std::string& root, const std::vector<std::string>& subdirs);

// Writes a split file: the sample_id of each index, one a line (atomically).
void write_id_list(const std::string& path, const std::vector<int64_t>& ids);

// Generates and writes the dataset (OpenMP over samples). progress(done, total) is called after each sample, one
// call at a time, and must not throw. The first error of any sample is rethrown once the others have stopped.
SynthSummary write_synth_dataset(const SynthOptions& options,
                                 const std::function<void(int64_t, int64_t)>& progress = {});

}  // namespace mtinet::synth
