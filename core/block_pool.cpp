#include "core/block_pool.h"

#include <cstdlib>
#include <iterator>

#include "core/error.h"

namespace mtinet {

namespace {
size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }
}  // namespace

BlockPool::~BlockPool() {
  // Segments with a block still in use stay allocated: a tensor destroyed after the pool (at exit) may still point
  // into one.
  release_idle_segments();
}

void* BlockPool::allocate(size_t bytes) {
  const size_t size = round_up(bytes == 0 ? 1 : bytes, kAlignment);
  Blocks::iterator block;
  auto fit = idle_.lower_bound({size, nullptr});
  if (fit != idle_.end()) {
    block = blocks_.find(fit->second);
  } else {
    const size_t segment = round_up(size > kSegmentBytes ? size : kSegmentBytes, kAlignment);
    char* base = static_cast<char*>(std::aligned_alloc(kAlignment, segment));
    if (base == nullptr) {
      release_idle_segments();
      base = static_cast<char*>(std::aligned_alloc(kAlignment, segment));
      if (base == nullptr) return nullptr;
    }
    segment_sizes_.emplace(base, segment);
    segment_bytes_ += segment;
    block = blocks_.emplace(base, Block{segment, base, false}).first;
    add_idle(block);
  }
  remove_idle(block);
  Block& b = block->second;
  if (b.size > size) {  // the rest stays idle (sizes are multiples of kAlignment, so the rest is too)
    add_idle(blocks_.emplace(block->first + size, Block{b.size - size, b.segment, false}).first);
    b.size = size;
  }
  return block->first;
}

void BlockPool::deallocate(void* ptr) {
  auto it = blocks_.find(static_cast<char*>(ptr));
  MTINET_CHECK(it != blocks_.end() && !it->second.idle, "BlockPool: freeing ", ptr,
               ", which is not a block in use (a double free, or memory from elsewhere)");
  make_idle(it);
  trim();
}

void BlockPool::add_idle(Blocks::iterator b) {
  b->second.idle = true;
  idle_.emplace(b->second.size, b->first);
  idle_bytes_ += b->second.size;
}

void BlockPool::remove_idle(Blocks::iterator b) {
  b->second.idle = false;
  idle_.erase({b->second.size, b->first});
  idle_bytes_ -= b->second.size;
}

void BlockPool::make_idle(Blocks::iterator it) {
  // An idle neighbour of the same segment is taken out of the idle set and its bytes join the lower block.
  auto joins = [&](Blocks::iterator n) { return n->second.idle && n->second.segment == it->second.segment; };
  auto next = std::next(it);
  if (next != blocks_.end() && joins(next)) {
    remove_idle(next);
    it->second.size += next->second.size;
    blocks_.erase(next);
  }
  if (it != blocks_.begin() && joins(std::prev(it))) {
    auto prev = std::prev(it);
    remove_idle(prev);
    prev->second.size += it->second.size;
    blocks_.erase(it);
    it = prev;
  }
  add_idle(it);
}

void BlockPool::trim() {
  if (idle_bytes_ <= max_idle_bytes_) return;
  for (auto seg = segment_sizes_.begin(); seg != segment_sizes_.end() && idle_bytes_ > max_idle_bytes_;) {
    auto block = blocks_.find(seg->first);
    if (block->second.idle && block->second.size == seg->second) {  // the whole segment is one idle block
      remove_idle(block);
      blocks_.erase(block);
      segment_bytes_ -= seg->second;
      std::free(seg->first);
      seg = segment_sizes_.erase(seg);
    } else {
      ++seg;
    }
  }
}

void BlockPool::release_idle_segments() {
  const size_t limit = max_idle_bytes_;
  max_idle_bytes_ = 0;
  trim();
  max_idle_bytes_ = limit;
}

}  // namespace mtinet
