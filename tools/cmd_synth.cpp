// `mtinet synth`: writes a procedural multi-task dataset in the NYUD-v2 layout (see data/synth_dataset.h) or, with
// --layout pascal, in the PASCAL-Context layout of the authors' PASCAL_MT download (data/synth_pascal.h).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include "core/error.h"
#include "data/synth_dataset.h"
#include "data/synth_pascal.h"
#include "tools/args.h"
#include "tools/commands.h"

namespace mtinet {

namespace {

void print_synth_help() {
  std::printf(
      "usage: mtinet synth --out DIR --n N [--layout nyud|pascal] [--size HxW] [--seed S] [--val-fraction F]\n\n"
      "Generates N ray-cast indoor scenes (a room with boxes, spheres and cylinders seen from a random camera)\n"
      "with consistent RGB, NYUD-40 semantic labels, metric z-depth, camera-frame normals and edges, written in\n"
      "the NYUD-v2 layout: images/ID.png, segmentation/ID.png, depth/ID.npy, normals/ID.npy, edge/ID.npy and\n"
      "gt_sets/{train,val}.txt. The output depends only on the options, not on the thread count.\n\n"
      "With --layout pascal: 2-D scenes of background stuff, VOC objects and articulated people with part labels,\n"
      "written as PASCAL_MT is: JPEGImages/ID.jpg, semseg/pascal-context/ID.png, human_parts/ID.mat (PASCAL-Part\n"
      "annotations), pascal-context/trainval/ID.mat (LabelMap), normals_distill/ID.png, sal_distill/ID.png and\n"
      "ImageSets/Context/{train,val}.txt.\n\n"
      "  --out DIR            output directory (created)\n"
      "  --n N                number of images\n"
      "  --layout L           nyud (default) or pascal\n"
      "  --size HxW           image size (default 240x320)\n"
      "  --seed S             random seed (default 0)\n"
      "  --val-fraction F     fraction of images in val.txt (default 0.2)\n");
}

int synth_pascal(const synth::SynthOptions& o) {
  std::printf("synth: %lld PASCAL-layout images of %dx%d, seed %llu -> %s\n", static_cast<long long>(o.count),
              o.height, o.width, static_cast<unsigned long long>(o.seed), o.out_dir.c_str());
  std::fflush(stdout);
  auto start = std::chrono::steady_clock::now();
  synth::PascalSynthSummary s = synth::write_pascal_synth_dataset(o);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("wrote %lld images (%lld train, %lld val) in %.2f s (%.1f images/s)\n",
              static_cast<long long>(s.train + s.val), static_cast<long long>(s.train),
              static_cast<long long>(s.val), secs, double(o.count) / std::max(secs, 1e-9));
  double total = double(std::max<int64_t>(s.total_pixels, 1));
  std::printf("images with people: %lld; person pixels: %.2f%%; salient pixels: %.2f%%\n",
              static_cast<long long>(s.images_with_people), 100.0 * s.person_pixels / total,
              100.0 * s.salient_pixels / total);
  return 0;
}

}  // namespace

int cmd_synth(const std::vector<std::string>& argv) {
  Args args(argv, {"out", "n", "layout", "size", "seed", "val-fraction"}, {"help"});
  if (args.has("help")) {
    print_synth_help();
    return 0;
  }
  MTINET_CHECK(args.positional().empty(), "unexpected argument '", args.positional().front(), "'");
  synth::SynthOptions o;
  o.out_dir = args.require("out");
  args.require("n");
  o.count = args.get_int("n", 0);
  auto [h, w] = parse_size(args.get("size", "240x320"));
  MTINET_CHECK(h >= 8 && w >= 8 && h <= 8192 && w <= 8192, "--size must be between 8x8 and 8192x8192, got ", h,
               "x", w);
  o.height = int(h);
  o.width = int(w);
  long long seed = args.get_int("seed", 0);
  MTINET_CHECK(seed >= 0, "--seed must be non-negative, got ", seed);
  o.seed = uint64_t(seed);
  o.val_fraction = args.get_double("val-fraction", 0.2);
  MTINET_CHECK(o.count > 0, "--n must be positive, got ", o.count);
  MTINET_CHECK(o.val_fraction >= 0 && o.val_fraction <= 1, "--val-fraction must be in [0, 1], got ", o.val_fraction);

  std::string layout = args.get("layout", "nyud");
  MTINET_CHECK(layout == "nyud" || layout == "pascal", "--layout must be nyud or pascal, got '", layout, "'");
  if (layout == "pascal") return synth_pascal(o);

  std::printf("synth: %lld images of %dx%d, seed %llu -> %s\n", static_cast<long long>(o.count), o.height,
              o.width, static_cast<unsigned long long>(o.seed), o.out_dir.c_str());
  std::fflush(stdout);
  auto start = std::chrono::steady_clock::now();
  int64_t step = std::max<int64_t>(1, o.count / 10);
  synth::SynthSummary s = synth::write_synth_dataset(o, [&](int64_t done, int64_t total) {
    if (done % step != 0 && done != total) return;
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("  %lld/%lld images (%.1f s)\n", static_cast<long long>(done), static_cast<long long>(total), secs);
    std::fflush(stdout);
  });
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::printf("wrote %lld images (%lld train, %lld val) in %.2f s (%.1f images/s)\n",
              static_cast<long long>(s.train + s.val), static_cast<long long>(s.train),
              static_cast<long long>(s.val), secs, double(o.count) / std::max(secs, 1e-9));
  double total = double(std::max<int64_t>(s.total_pixels, 1));
  std::printf("invalid depth: %.2f%% of pixels; edge pixels: %.2f%%\n", 100.0 * s.invalid_depth_pixels / total,
              100.0 * s.edge_pixels / total);
  std::vector<int> order(s.class_pixels.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return s.class_pixels[size_t(a)] > s.class_pixels[size_t(b)]; });
  int present = int(std::count_if(s.class_pixels.begin() + 1, s.class_pixels.end(), [](int64_t c) { return c > 0; }));
  std::printf("classes present: %d of %d; largest by pixels:\n", present, synth::kNumClasses);
  for (size_t k = 0; k < 8 && k < order.size() && s.class_pixels[size_t(order[k])] > 0; ++k)
    std::printf("  %2d %-16s %6.2f%%\n", order[k], synth::nyu40_class_name(order[k]),
                100.0 * s.class_pixels[size_t(order[k])] / total);
  return 0;
}

}  // namespace mtinet
