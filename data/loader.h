// The data loader: batches of augmented samples prepared on worker threads while the model trains.
//
// Deterministic whatever the thread count: the epoch's order is a shuffle seeded by (seed, epoch), and each
// sample's augmentation draws from an RNG seeded by (seed, epoch, position), so which thread builds a batch never
// matters. The state (epoch, next batch) is all that is needed to resume mid-epoch exactly.
//
// Data-parallel training shards every batch: with `shards` = N, loader `shard` r builds the r-th of N equal slices
// of each batch of the one global order, so N loaders together read exactly the samples (and augmentations) one
// unsharded loader reads, and their state counts global batches whatever N is.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "data/dataset.h"
#include "data/transforms.h"

namespace mtinet {

struct Batch {
  // "image" {N,H,W,3} f32 normalised; "semseg", "human_parts" {N,H,W} i64 (255 ignore); "depth", "edge", "sal"
  // {N,H,W,1}; "normals" {N,H,W,3}; all on the CPU.
  std::map<std::string, Tensor> tensors;
  std::vector<std::string> ids;
};

struct LoaderConfig {
  int64_t batch_size = 8;
  bool shuffle = true;
  bool drop_last = true;
  bool augment = true;    // training augmentations; off: resize only
  AugmentConfig aug;
  bool normalize = true;  // /255 then ImageNet mean/std
  int threads = 2;
  int prefetch = 4;       // batches prepared ahead
  uint64_t seed = 0;
  // batch_size is the global batch; this loader's batches hold its slice of batch_size / shards samples.
  int shards = 1;
  int shard = 0;
};

struct LoaderState {
  int64_t epoch = 0;
  int64_t next_batch = 0;
};

// Sample `index` of `dataset` exactly as the loader prepares it at `position` of `epoch`'s order: augmented with
// that position's RNG (cfg.augment) or only resized, then human parts of images without people set to ignore.
// What `mtinet inspect` shows.
Sample prepare_loader_sample(const Dataset& dataset, size_t index, const LoaderConfig& cfg, int64_t epoch,
                             int64_t position);

// Stacks samples into a batch (converting labels to their training dtypes and normalising the image).
Batch collate(std::vector<Sample>& samples, bool normalize);

class Loader {
 public:
  Loader(std::shared_ptr<const Dataset> dataset, LoaderConfig cfg);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  int64_t batches_per_epoch() const;
  // Starts (or restarts) at the given position; workers begin preparing batches from there.
  void start(const LoaderState& at);
  // The next batch of the current epoch, or false at the epoch's end (the state then points at the next epoch).
  bool next(Batch& out);
  LoaderState state() const { return state_; }

 private:
  void stop_workers();
  void worker_loop();
  Batch build_batch(int64_t epoch, int64_t b) const;

  std::shared_ptr<const Dataset> dataset_;
  LoaderConfig cfg_;
  LoaderState state_;
  std::vector<size_t> order_;  // the current epoch's sample order
  bool restart_pending_ = false;  // an epoch ended; the next call to next() starts the following one

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::thread> workers_;
  int64_t next_to_build_ = 0;
  std::map<int64_t, Batch> ready_;
  std::map<int64_t, std::exception_ptr> failed_;  // batches whose samples failed to load
  bool stopping_ = false;
};

}  // namespace mtinet
