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
  auto fit = idle_.lower_bound({size, nullptr});
  if (fit == idle_.end()) {
    const size_t segment = round_up(size > kSegmentBytes ? size : kSegmentBytes, kAlignment);
    char* base = static_cast<char*>(std::aligned_alloc(kAlignment, segment));
    if (base == nullptr) {
      release_idle_segments();
      base = static_cast<char*>(std::aligned_alloc(kAlignment, segment));
      if (base == nullptr) return nullptr;
    }
    segment_sizes_.emplace(base, segment);
    segment_bytes_ += segment;
    blocks_.emplace(base, Block{segment, base, true});
    fit = idle_.emplace(segment, base).first;
    idle_bytes_ += segment;
  }
  char* p = fit->second;
  idle_.erase(fit);
  Block& block = blocks_.at(p);
  idle_bytes_ -= block.size;
  if (block.size > size) {  // the rest stays idle (sizes are multiples of kAlignment, so the rest is too)
    const size_t rest = block.size - size;
    blocks_.emplace(p + size, Block{rest, block.segment, true});
    idle_.emplace(rest, p + size);
    idle_bytes_ += rest;
    block.size = size;
  }
  block.idle = false;
  return p;
}

void BlockPool::deallocate(void* ptr) {
  auto it = blocks_.find(static_cast<char*>(ptr));
  MTINET_CHECK(it != blocks_.end() && !it->second.idle, "BlockPool: freeing ", ptr,
               ", which is not a block in use (a double free, or memory from elsewhere)");
  make_idle(it);
  trim();
}

// Marks a block idle and merges it with idle neighbours of the same segment; returns the merged block.
std::map<char*, BlockPool::Block>::iterator BlockPool::make_idle(std::map<char*, Block>::iterator it) {
  it->second.idle = true;
  auto absorb = [this](std::map<char*, Block>::iterator into, std::map<char*, Block>::iterator next) {
    idle_.erase({next->second.size, next->first});
    idle_bytes_ -= next->second.size;
    into->second.size += next->second.size;
    blocks_.erase(next);
  };
  auto next = std::next(it);
  if (next != blocks_.end() && next->second.idle && next->second.segment == it->second.segment) absorb(it, next);
  if (it != blocks_.begin()) {
    auto prev = std::prev(it);
    if (prev->second.idle && prev->second.segment == it->second.segment) {
      idle_.erase({prev->second.size, prev->first});
      idle_bytes_ -= prev->second.size;
      prev->second.size += it->second.size;
      blocks_.erase(it);
      it = prev;
    }
  }
  idle_.emplace(it->second.size, it->first);
  idle_bytes_ += it->second.size;
  return it;
}

void BlockPool::trim() {
  if (idle_bytes_ <= max_idle_bytes_) return;
  for (auto seg = segment_sizes_.begin(); seg != segment_sizes_.end() && idle_bytes_ > max_idle_bytes_;) {
    auto block = blocks_.find(seg->first);
    if (block->second.idle && block->second.size == seg->second) {
      idle_.erase({block->second.size, block->first});
      idle_bytes_ -= block->second.size;
      segment_bytes_ -= seg->second;
      blocks_.erase(block);
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
