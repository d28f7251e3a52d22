#include "data/image_jpeg_check.h"

#include "core/error.h"

namespace mtinet {

namespace {

constexpr int kNoMarker = 0xFF;  // stb's STBI__MARKER_none
constexpr int kSoi = 0xD8, kEoi = 0xD9, kSos = 0xDA, kDqt = 0xDB, kDnl = 0xDC, kDri = 0xDD, kDht = 0xC4;

bool is_sof(int m) { return m == 0xC0 || m == 0xC1 || m == 0xC2; }  // the frame types stb decodes

// Follows stb_image's stbi__decode_jpeg_header / stbi__decode_jpeg_image over the bytes without decoding anything.
// Where stb would stop with an error, the walk stops too: stb never reaches what follows.
class JpegWalk {
 public:
  JpegWalk(const uint8_t* data, size_t size, const std::string& source) : d_(data), n_(size), source_(source) {}

  void run() {
    if (marker() != kSoi) return;
    int m = marker();
    while (!is_sof(m)) {  // tables and application segments before the frame
      if (!segment(m)) return;
      m = marker();
      while (m == kNoMarker) {  // stb skips padding between segments
        if (eof()) return;
        m = marker();
      }
    }
    progressive_ = m == 0xC2;
    skip_length_prefixed();  // the frame header
    for (m = marker(); m != kEoi; m = marker()) {
      if (m == kSos) {
        if (!scan_header()) return;
        skip_entropy_coded_data();
      } else if (m == kDnl) {
        skip(4);
      } else if (!segment(m)) {  // also at the end of the data, where marker() finds none
        return;
      }
    }
  }

 private:
  int get8() { return pos_ < n_ ? d_[pos_++] : 0; }  // stb reads 0 past the end
  int get16() {
    int hi = get8();
    return hi << 8 | get8();
  }
  bool eof() const { return pos_ >= n_; }
  void skip(size_t k) { pos_ = k > n_ - pos_ ? n_ : pos_ + k; }
  void skip_length_prefixed() {
    int len = get16();
    skip(len >= 2 ? size_t(len - 2) : 0);
  }

  // stbi__get_marker: 0xFF, any number of 0xFF fill bytes, then the code; a marker found in entropy-coded data first.
  int marker() {
    if (pending_ != kNoMarker) {
      int m = pending_;
      pending_ = kNoMarker;
      return m;
    }
    int x = get8();
    if (x != 0xFF) return kNoMarker;
    while (x == 0xFF) x = get8();
    return x;
  }

  // Entropy-coded data ends at the first marker other than a stuffed 0xFF00 or a restart marker (RST0-7).
  void skip_entropy_coded_data() {
    while (!eof()) {
      if (get8() != 0xFF) continue;
      int c = get8();
      while (c == 0xFF) c = get8();
      if (c != 0 && !(c >= 0xD0 && c <= 0xD7)) {
        pending_ = c;
        return;
      }
    }
  }

  // stbi__process_scan_header, then the tables stbi__parse_entropy_coded_data will use: DC and AC for baseline
  // scans; for progressive ones DC in a first DC pass (Ss = 0, Ah = 0), none in a DC refinement, AC in AC passes.
  bool scan_header() {
    int len = get16(), count = get8();
    if (count < 1 || count > 4 || len != 6 + 2 * count) return false;
    int selectors[4];
    for (int i = 0; i < count; ++i) {
      get8();  // component id
      selectors[i] = get8();
      if (selectors[i] >> 4 > 3 || (selectors[i] & 15) > 3) return false;
    }
    int spec_start = get8();
    get8();  // spectral selection end
    int approx_high = get8() >> 4;
    bool uses_dc = !progressive_ || (spec_start == 0 && approx_high == 0);
    bool uses_ac = !progressive_ || spec_start != 0;
    for (int i = 0; i < count; ++i) {
      int dc = selectors[i] >> 4, ac = selectors[i] & 15;
      MTINET_CHECK(!uses_dc || defined_[0][dc], "cannot decode image '", source_, "': a JPEG scan uses DC Huffman ",
                   "table ", dc, ", which the file has not defined (corrupt file)");
      MTINET_CHECK(!uses_ac || defined_[1][ac], "cannot decode image '", source_, "': a JPEG scan uses AC Huffman ",
                   "table ", ac, ", which the file has not defined (corrupt file)");
    }
    return true;
  }

  // stbi__build_huffman's own check: more codes of a length than that many bits can hold ("bad code lengths").
  static bool valid_code_lengths(const int counts[16]) {
    unsigned code = 0;
    for (int bits = 1; bits <= 16; ++bits) {
      code += unsigned(counts[bits - 1]);
      if (counts[bits - 1] > 0 && code - 1 >= (1u << bits)) return false;
      code <<= 1;
    }
    return true;
  }

  // stbi__process_marker for the segments stb accepts; false where stb fails ("unknown marker", bad lengths).
  bool segment(int m) {
    if (m == kDri) {
      if (get16() != 4) return false;
      skip(2);
      return true;
    }
    if (m == kDqt) {
      int left = get16() - 2;
      while (left > 0) {
        int q = get8(), precision = q >> 4;
        if (precision > 1 || (q & 15) > 3) return false;
        skip(precision ? 128 : 64);
        left -= precision ? 129 : 65;
      }
      return left == 0;
    }
    if (m == kDht) {
      int left = get16() - 2;
      while (left > 0) {
        int q = get8(), table_class = q >> 4, id = q & 15;
        if (table_class > 1 || id > 3) return false;
        int counts[16], codes = 0;
        for (int& c : counts) codes += c = get8();
        MTINET_CHECK(codes <= 256, "cannot decode image '", source_, "': a JPEG Huffman table declares ", codes,
                     " codes, more than the 256 one can hold (corrupt file)");
        if (!valid_code_lengths(counts)) return false;
        defined_[table_class][id] = true;
        skip(size_t(codes));
        left -= 17 + codes;
      }
      return left == 0;
    }
    if ((m >= 0xE0 && m <= 0xEF) || m == 0xFE) {  // APPn, COM: skipped whole
      int len = get16();
      if (len < 2) return false;
      skip(size_t(len - 2));
      return true;
    }
    return false;
  }

  const uint8_t* d_;
  size_t n_;
  const std::string& source_;
  size_t pos_ = 0;
  int pending_ = kNoMarker;
  bool progressive_ = false;
  bool defined_[2][4] = {};  // [DC, AC][table id]: built by a DHT so far
};

}  // namespace

void check_jpeg_huffman_tables(const uint8_t* data, size_t size, const std::string& source) {
  JpegWalk(data, size, source).run();
}

}  // namespace mtinet
