#include "data/loader.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "data/pascal_parts.h"

namespace mtinet {

namespace {
// Mixes several integers into one well-spread seed (splitmix64 finaliser).
uint64_t mix(uint64_t a, uint64_t b, uint64_t c = 0) {
  uint64_t x = a ^ (b + 0x9E3779B97F4A7C15ull + (a << 6) + (a >> 2));
  x ^= c + 0x632BE59BD9B4E019ull + (x << 6) + (x >> 2);
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

constexpr float kMean[3] = {0.485f, 0.456f, 0.406f};
constexpr float kStd[3] = {0.229f, 0.224f, 0.225f};
}  // namespace

Batch collate(std::vector<Sample>& samples, bool normalize) {
  MTINET_CHECK(!samples.empty(), "collate: empty batch");
  Batch b;
  int64_t n = int64_t(samples.size());
  for (const auto& [name, field] : samples[0].fields) {
    const Shape& s0 = field.map.shape();
    bool is_semseg = name == "semseg" || name == "human_parts";  // class maps: i64 {N, H, W} for the CE loss
    Shape shape = is_semseg ? Shape{n, s0[0], s0[1]} : Shape{n, s0[0], s0[1], s0[2]};
    Tensor t = Tensor::empty(shape, is_semseg ? DType::I64 : DType::F32);
    int64_t per = field.map.numel();
    for (int64_t i = 0; i < n; ++i) {
      auto it = samples[size_t(i)].fields.find(name);
      MTINET_CHECK(it != samples[size_t(i)].fields.end() && it->second.map.shape() == s0, "collate: sample '",
                   samples[size_t(i)].id, "' field '", name, "' does not match the batch's first sample");
      const float* src = it->second.map.data<float>();
      if (is_semseg) {
        int64_t* dst = t.data<int64_t>() + i * per;
        for (int64_t k = 0; k < per; ++k) dst[k] = int64_t(src[k]);
      } else if (name == "image" && normalize) {
        float* dst = t.data<float>() + i * per;
        for (int64_t k = 0; k < per; ++k) dst[k] = (src[k] / 255.0f - kMean[k % 3]) / kStd[k % 3];
      } else {
        std::memcpy(t.data<float>() + i * per, src, size_t(per) * sizeof(float));
      }
    }
    b.tensors[name] = t;
  }
  for (const Sample& s : samples) b.ids.push_back(s.id);
  return b;
}

Loader::Loader(std::shared_ptr<const Dataset> dataset, LoaderConfig cfg) : dataset_(std::move(dataset)), cfg_(cfg) {
  MTINET_CHECK(cfg_.batch_size > 0, "loader: batch size must be positive, got ", cfg_.batch_size);
  MTINET_CHECK(cfg_.threads > 0 && cfg_.prefetch > 0, "loader: threads and prefetch must be positive");
  MTINET_CHECK(cfg_.shards > 0 && cfg_.shard >= 0 && cfg_.shard < cfg_.shards, "loader: shard ", cfg_.shard,
               " of ", cfg_.shards, " does not exist");
  MTINET_CHECK(cfg_.shards == 1 || (cfg_.batch_size % cfg_.shards == 0 && cfg_.drop_last), "loader: a batch of ",
               cfg_.batch_size, " cannot be split into ", cfg_.shards, " equal shards",
               cfg_.drop_last ? "" : " (and the last, partial batch of an epoch would not split either)");
  MTINET_CHECK(batches_per_epoch() > 0, "loader: dataset ", dataset_->name(), " has ", dataset_->size(),
               " samples, fewer than one batch of ", cfg_.batch_size, (cfg_.drop_last ? " (drop_last)" : ""));
}

Loader::~Loader() { stop_workers(); }

int64_t Loader::batches_per_epoch() const {
  int64_t n = int64_t(dataset_->size());
  return cfg_.drop_last ? n / cfg_.batch_size : (n + cfg_.batch_size - 1) / cfg_.batch_size;
}

void Loader::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
  ready_.clear();
  failed_.clear();
  stopping_ = false;
}

void Loader::start(const LoaderState& at) {
  stop_workers();
  MTINET_CHECK(at.next_batch >= 0 && at.next_batch <= batches_per_epoch(), "loader: cannot resume at batch ",
               at.next_batch, " of an epoch of ", batches_per_epoch());
  state_ = at;
  restart_pending_ = false;
  order_.resize(dataset_->size());
  std::iota(order_.begin(), order_.end(), size_t(0));
  if (cfg_.shuffle) {
    Rng rng(mix(cfg_.seed, uint64_t(state_.epoch), 0x5348554646ull));
    for (size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[size_t(rng.randint(int64_t(i)))]);
  }
  next_to_build_ = state_.next_batch;
  for (int i = 0; i < cfg_.threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

Batch Loader::build_batch(int64_t epoch, int64_t b) const {
  int64_t per_shard = cfg_.batch_size / cfg_.shards;
  int64_t begin = b * cfg_.batch_size + cfg_.shard * per_shard;
  int64_t end = std::min<int64_t>(begin + per_shard, int64_t(order_.size()));
  std::vector<Sample> samples;
  for (int64_t pos = begin; pos < end; ++pos)
    samples.push_back(prepare_loader_sample(*dataset_, order_[size_t(pos)], cfg_, epoch, pos));
  return collate(samples, cfg_.normalize);
}

Sample prepare_loader_sample(const Dataset& dataset, size_t index, const LoaderConfig& cfg, int64_t epoch,
                             int64_t position) {
  Sample s = dataset.load(index);
  Rng rng(mix(cfg.seed, uint64_t(epoch), uint64_t(position) + 1));
  if (cfg.augment) augment(s, cfg.aug, rng);
  else resize_only(s, cfg.aug);
  ignore_samples_without_parts(s);  // PASCAL: after augmentation, as the reference's AddIgnoreRegions
  return s;
}

void Loader::worker_loop() {
  for (;;) {
    int64_t b;
    int64_t epoch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] {
        return stopping_ || (next_to_build_ < batches_per_epoch() && next_to_build_ < state_.next_batch + cfg_.prefetch);
      });
      if (stopping_) return;
      b = next_to_build_++;
      epoch = state_.epoch;
    }
    try {
      Batch batch = build_batch(epoch, b);
      std::lock_guard<std::mutex> lock(mu_);
      ready_[b] = std::move(batch);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu_);
      failed_[b] = std::current_exception();
    }
    cv_.notify_all();
  }
}

bool Loader::next(Batch& out) {
  if (state_.next_batch >= batches_per_epoch()) {
    // The next epoch's workers start on the next call, not now: after the last epoch nobody asks again, and
    // prefetching it would be wasted work.
    stop_workers();
    state_ = {state_.epoch + 1, 0};
    restart_pending_ = true;
    return false;
  }
  if (restart_pending_) start(state_);
  MTINET_CHECK(!workers_.empty(), "loader: next() before start()");
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return ready_.count(state_.next_batch) || failed_.count(state_.next_batch); });
  if (!ready_.count(state_.next_batch)) {  // the batch asked for failed to build
    std::exception_ptr e = failed_[state_.next_batch];
    lock.unlock();
    stop_workers();
    std::rethrow_exception(e);
  }
  out = std::move(ready_[state_.next_batch]);
  ready_.erase(state_.next_batch);
  ++state_.next_batch;
  lock.unlock();
  cv_.notify_all();
  return true;
}

}  // namespace mtinet
