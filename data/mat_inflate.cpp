#include "data/mat_inflate.h"

#include <zlib.h>

#include <climits>

#include "core/error.h"

namespace mtinet::mat_detail {

namespace {

// Owns a z_stream so every exit path (including exceptions) releases zlib's state.
struct Inflater {
  z_stream zs{};
  explicit Inflater(const std::string& what) {
    MTINET_CHECK(inflateInit(&zs) == Z_OK, what, ": cannot initialise zlib");
  }
  ~Inflater() { inflateEnd(&zs); }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  // Inflates into out[0, n) until it is full or the stream ends; returns zlib's last status. Every call either
  // makes progress or stops, so a malformed stream cannot loop forever.
  int fill(uint8_t* out, size_t n) {
    zs.next_out = out;
    zs.avail_out = uInt(n);
    int ret = Z_OK;
    while (zs.avail_out > 0) {
      uInt in_before = zs.avail_in, out_before = zs.avail_out;
      ret = inflate(&zs, Z_NO_FLUSH);
      if (ret != Z_OK) break;
      if (zs.avail_in == in_before && zs.avail_out == out_before) return Z_BUF_ERROR;
    }
    return ret;
  }
};

std::string zlib_problem(int ret, const z_stream& zs) {
  if (ret == Z_BUF_ERROR) return "the compressed data is truncated";
  std::string msg = zs.msg ? zs.msg : "zlib error " + std::to_string(ret);
  return "corrupt compressed data (" + msg + ")";
}

}  // namespace

std::vector<uint8_t> inflate_element(const uint8_t* in, size_t size,
                                     const std::function<size_t(const uint8_t* tag)>& expected_size,
                                     const std::string& what) {
  // zlib counts input in 32-bit units; the caller's element length is 32-bit too, so this only guards the cast.
  MTINET_CHECK(size <= UINT_MAX, what, ": compressed element of ", size, " bytes is too large");
  Inflater z(what);
  z.zs.next_in = const_cast<Bytef*>(in);
  z.zs.avail_in = uInt(size);

  uint8_t tag[8];
  int ret = z.fill(tag, 8);
  if (z.zs.avail_out > 0) {
    MTINET_CHECK(ret != Z_STREAM_END, what, ": the decompressed data has ", 8 - z.zs.avail_out,
                 " bytes, too few for a data element tag");
    MTINET_FAIL(what, ": ", zlib_problem(ret, z.zs));
  }
  size_t total = expected_size(tag);
  MTINET_CHECK(total >= 8 && total <= UINT_MAX, what, ": decompressed size ", total, " out of range");
  std::vector<uint8_t> out(total);
  std::copy(tag, tag + 8, out.begin());
  size_t produced = 8;
  if (ret != Z_STREAM_END && total > 8) {
    ret = z.fill(out.data() + 8, total - 8);
    produced = total - z.zs.avail_out;
  }
  if (ret == Z_STREAM_END) {
    MTINET_CHECK(produced == total, what, ": the decompressed data has ", produced, " bytes, but its tag announces ",
                 total);
  } else {
    MTINET_CHECK(ret == Z_OK, what, ": ", zlib_problem(ret, z.zs));
    // The output is full; the stream must end here. One more byte of room tells "ends now" from "has more".
    uint8_t extra;
    ret = z.fill(&extra, 1);
    MTINET_CHECK(z.zs.avail_out == 1, what, ": the decompressed data is longer than the ", total,
                 " bytes its tag announces");
    MTINET_CHECK(ret == Z_STREAM_END, what, ": ", zlib_problem(ret, z.zs));
  }
  MTINET_CHECK(z.zs.avail_in == 0, what, ": ", z.zs.avail_in, " bytes follow the end of the compressed stream");
  return out;
}

}  // namespace mtinet::mat_detail
