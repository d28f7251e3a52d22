// mtinet bench loader: images/s of the data loader alone (decode, augment, collate on worker threads), with no
// model attached, so the input pipeline can be compared with the training step it must keep fed.
#include <chrono>
#include <cstdio>
#include <memory>

#include "data/loader.h"
#include "data/nyud.h"
#include "tools/args.h"
#include "tools/commands.h"

namespace mtinet {

int cmd_bench_loader(const std::vector<std::string>& argv) {
  Args args(argv, {"data", "size", "batch", "threads", "batches", "tasks"}, {"no-augment", "help"});
  if (args.has("help")) {
    std::printf(
        "usage: mtinet bench loader --data DIR [--size HxW] [--batch B] [--threads T] [--batches N] [--no-augment]\n\n"
        "Times the loader alone on a dataset in the NYUD layout (e.g. one made by `mtinet synth`): N batches after\n"
        "one warm-up batch, reference augmentations on (flip, zoom 1/1.2/1.5, resize) unless --no-augment.\n"
        "Defaults: --size 480x640 --batch 8 --threads 2 --batches 10.\n");
    return 0;
  }
  auto [h, w] = parse_size(args.get("size", "480x640"));
  LoaderConfig cfg;
  cfg.batch_size = args.get_int("batch", 8);
  cfg.threads = int(args.get_int("threads", 2));
  cfg.augment = !args.has("no-augment");
  cfg.aug.out_h = h;
  cfg.aug.out_w = w;
  int64_t batches = args.get_int("batches", 10);
  auto ds = std::make_shared<NyudDataset>(args.require("data"), "train",
                                          std::vector<std::string>{"semseg", "depth", "normals", "edge"});
  Loader loader(ds, cfg);
  loader.start({0, 0});
  Batch b;
  loader.next(b);  // warm-up: thread start and the first batch
  auto t0 = std::chrono::steady_clock::now();
  int64_t images = 0, done = 0;
  while (done < batches) {
    if (!loader.next(b)) continue;  // epoch boundary: the loader restarts on its own
    images += int64_t(b.ids.size());
    ++done;
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("loader: %lld batches of %lld at %lldx%lld, %d threads, augment %s: %.1f images/s (%.1f ms/batch)\n",
              static_cast<long long>(done), static_cast<long long>(cfg.batch_size), h, w, cfg.threads,
              cfg.augment ? "on" : "off", double(images) / s, 1e3 * s / double(done));
  return 0;
}

}  // namespace mtinet
