// The CPU allocator's pool of large blocks: best-fit from idle memory, splitting a larger idle block and merging
// neighbours when blocks are freed, so that idle memory left by one size serves any other.
//
// Why a pool at all: glibc serves large blocks with mmap and returns them with munmap, so every training step faulted
// in and zeroed its activations page by page anew (64 k faults and ~5% of a step at batch 2, 1 M faults at batch 8
// 480x640, where a page fault costs more than the arithmetic of an element-wise op). Why splitting: a pool that only
// hands out whole blocks of about the requested size keeps idle blocks of every size a step ever used, and the
// process peak becomes the live peak plus those idle blocks (an evaluation pass at batch 8, 480x640: 2.29 GiB
// against 1.44 GiB live). Memory comes from the system in segments of at least kSegmentBytes; a segment's pages
// count as resident only once a block in it is written, so a large segment costs nothing until it is used.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <utility>

namespace mtinet {

class BlockPool {
 public:
  static constexpr size_t kAlignment = 4096;           // every block starts on a page
  static constexpr size_t kSegmentBytes = size_t(64) << 20;

  // max_idle_bytes: idle memory beyond this is returned to the system, whole idle segments first.
  explicit BlockPool(size_t max_idle_bytes) : max_idle_bytes_(max_idle_bytes) {}
  ~BlockPool();
  BlockPool(const BlockPool&) = delete;
  BlockPool& operator=(const BlockPool&) = delete;

  // A block of at least `bytes` (rounded up to kAlignment), or nullptr when the system has no memory left even after
  // the pool returned its idle segments.
  void* allocate(size_t bytes);
  // Returns a block from allocate() to the pool. Throws for a pointer the pool did not hand out.
  void deallocate(void* p);
  // Returns every segment with no block in use to the system.
  void release_idle_segments();

  size_t idle_bytes() const { return idle_bytes_; }
  size_t segment_bytes() const { return segment_bytes_; }  // obtained from the system and not yet returned
  size_t segments() const { return segment_sizes_.size(); }

 private:
  struct Block {
    size_t size;
    char* segment;  // the segment's base: blocks merge only within one segment
    bool idle;
  };

  using Blocks = std::map<char*, Block>;

  // The one place a block enters or leaves the idle set: its flag, idle_ and idle_bytes_ change together.
  void add_idle(Blocks::iterator b);
  void remove_idle(Blocks::iterator b);
  void make_idle(Blocks::iterator b);  // add_idle after merging with idle neighbours of its segment
  void trim();

  size_t max_idle_bytes_;
  Blocks blocks_;                               // every block of every segment, by address
  std::set<std::pair<size_t, char*>> idle_;     // idle blocks by (size, address): best fit = lower_bound
  std::map<char*, size_t> segment_sizes_;       // segment base -> bytes
  size_t idle_bytes_ = 0, segment_bytes_ = 0;
};

}  // namespace mtinet
