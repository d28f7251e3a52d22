// The CPU allocator's large-block pool (core/block_pool.h): aligned, disjoint blocks; best fit; splitting a larger
// idle block; merging neighbours back; idle segments returned; misuse refused; and a random alloc/free workload
// checked against a model of which bytes are in use.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <random>
#include <vector>

#include "core/block_pool.h"
#include "core/error.h"
#include "test_util.h"

using namespace mtinet;

namespace {
constexpr size_t kMiB = size_t(1) << 20;
uintptr_t addr(void* p) { return reinterpret_cast<uintptr_t>(p); }
}  // namespace

TEST_CASE("block pool: blocks are page-aligned, disjoint and carved from one segment") {
  BlockPool pool(~size_t(0));
  void* a = pool.allocate(1 * kMiB);
  void* b = pool.allocate(3 * kMiB + 5);  // rounded up to whole pages
  CHECK(addr(a) % BlockPool::kAlignment == 0);
  CHECK(addr(b) % BlockPool::kAlignment == 0);
  CHECK(addr(b) == addr(a) + 1 * kMiB);  // the first segment's idle rest serves the second request
  CHECK(pool.segments() == 1);
  CHECK(pool.segment_bytes() == BlockPool::kSegmentBytes);
  const size_t b_size = 3 * kMiB + BlockPool::kAlignment;
  CHECK(pool.idle_bytes() == BlockPool::kSegmentBytes - 1 * kMiB - b_size);
  std::memset(a, 1, 1 * kMiB);
  std::memset(b, 2, 3 * kMiB + 5);
  CHECK(static_cast<unsigned char*>(a)[1 * kMiB - 1] == 1);
  pool.deallocate(a);
  pool.deallocate(b);
  CHECK(pool.idle_bytes() == pool.segment_bytes());  // merged back into one idle segment
}

TEST_CASE("block pool: best fit among idle blocks, and a freed block split for a smaller request") {
  BlockPool pool(~size_t(0));
  void* a = pool.allocate(3 * kMiB);
  void* sep1 = pool.allocate(1 * kMiB);
  void* b = pool.allocate(1 * kMiB);
  void* sep2 = pool.allocate(1 * kMiB);
  pool.deallocate(a);  // idle holes of 3 MiB (at a) and 1 MiB (at b), plus the segment's rest
  pool.deallocate(b);
  CHECK(addr(pool.allocate(1 * kMiB)) == addr(b));  // the exact-size hole, not the larger one
  void* c = pool.allocate(2 * kMiB);
  CHECK(addr(c) == addr(a));  // split from the 3 MiB hole
  void* d = pool.allocate(1 * kMiB);
  CHECK(addr(d) == addr(a) + 2 * kMiB);  // the hole's remaining 1 MiB
  for (void* p : {sep1, sep2, c, d, b}) pool.deallocate(p);
  CHECK(pool.idle_bytes() == pool.segment_bytes());
  CHECK(pool.segments() == 1);
}

TEST_CASE("block pool: a request larger than a segment gets its own segment, and idle segments go back") {
  BlockPool pool(~size_t(0));
  void* big = pool.allocate(BlockPool::kSegmentBytes + 1);
  void* small = pool.allocate(1 * kMiB);
  CHECK(pool.segments() == 2);
  pool.deallocate(big);
  pool.release_idle_segments();  // the big segment is wholly idle, the other still has a block in use
  CHECK(pool.segments() == 1);
  pool.deallocate(small);
  pool.release_idle_segments();
  CHECK(pool.segments() == 0);
  CHECK(pool.segment_bytes() == 0);
  CHECK(pool.idle_bytes() == 0);
}

TEST_CASE("block pool: idle memory above the limit goes back to the system") {
  BlockPool pool(0);
  void* a = pool.allocate(1 * kMiB);
  pool.deallocate(a);
  CHECK(pool.segments() == 0);
}

TEST_CASE("block pool: freeing twice or freeing foreign memory is refused") {
  BlockPool pool(~size_t(0));
  void* a = pool.allocate(1 * kMiB);
  void* keep = pool.allocate(1 * kMiB);
  pool.deallocate(a);
  CHECK_THROWS_WITH_AS(pool.deallocate(a), doctest::Contains("not a block in use"), Error);
  int local = 0;
  CHECK_THROWS_WITH_AS(pool.deallocate(&local), doctest::Contains("not a block in use"), Error);
  pool.deallocate(keep);
}

TEST_CASE("block pool: a random workload never hands out overlapping bytes and ends wholly idle") {
  BlockPool pool(~size_t(0));
  std::mt19937_64 rng(17);
  std::map<uintptr_t, size_t> live;  // start -> requested bytes
  std::vector<void*> order;
  for (int step = 0; step < 4000; ++step) {
    const bool free_one = !order.empty() && (rng() % 100 < 45 || order.size() > 60);
    if (free_one) {
      const size_t k = rng() % order.size();
      void* p = order[k];
      order[k] = order.back();
      order.pop_back();
      // The block's first and last bytes still hold what was written there: no other block covered them.
      const size_t bytes = live.at(addr(p));
      const unsigned char mark = static_cast<unsigned char>(addr(p) >> 12);
      CHECK(static_cast<unsigned char*>(p)[0] == mark);
      CHECK(static_cast<unsigned char*>(p)[bytes - 1] == mark);
      live.erase(addr(p));
      pool.deallocate(p);
      continue;
    }
    const size_t bytes = (size_t(1) << 18) + rng() % (24 * kMiB);
    void* p = pool.allocate(bytes);
    REQUIRE(p != nullptr);
    auto next = live.lower_bound(addr(p));
    if (next != live.end()) REQUIRE(addr(p) + bytes <= next->first);
    if (next != live.begin()) {
      auto prev = std::prev(next);
      REQUIRE(prev->first + prev->second <= addr(p));
    }
    live.emplace(addr(p), bytes);
    order.push_back(p);
    static_cast<unsigned char*>(p)[0] = static_cast<unsigned char>(addr(p) >> 12);
    static_cast<unsigned char*>(p)[bytes - 1] = static_cast<unsigned char>(addr(p) >> 12);
  }
  for (void* p : order) pool.deallocate(p);
  CHECK(pool.idle_bytes() == pool.segment_bytes());
  pool.release_idle_segments();
  CHECK(pool.segments() == 0);
}
