#include "data/npy_header.h"

#include <cstring>
#include <limits>
#include <set>

#include "core/error.h"

namespace mtinet {

namespace {

// The header text in messages, cut short: a header may be megabytes long.
std::string excerpt(const std::string& text) {
  constexpr size_t kMax = 200;
  return text.size() <= kMax ? text : text.substr(0, kMax) + "...";
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A cursor over the dict literal. Accepts the subset of Python literals NumPy writes: quoted strings without
// escapes, True/False, and tuples of non-negative decimal integers.
class DictParser {
 public:
  DictParser(const std::string& text, const std::string& source) : s_(text), source_(source) {}

  NpyHeader parse() {
    skip_space();
    MTINET_CHECK(take('{'), "'", source_, "': .npy header is not a dict: ", excerpt(s_));
    std::set<std::string> keys;
    bool has_descr = false, has_fortran = false, has_shape = false;
    NpyHeader h;
    for (;;) {
      skip_space();
      if (take('}')) break;
      std::string key = string_literal("a quoted key");
      MTINET_CHECK(keys.insert(key).second, "'", source_, "': .npy header has the key '", key, "' twice");
      skip_space();
      MTINET_CHECK(take(':'), "'", source_, "': .npy header has no ':' after the key '", key, "'");
      skip_space();
      if (key == "descr") {
        read_descr(h);
        has_descr = true;
      } else if (key == "fortran_order") {
        h.fortran = boolean(key);
        has_fortran = true;
      } else if (key == "shape") {
        h.shape = shape();
        has_shape = true;
      } else {
        MTINET_FAIL("'", source_, "': .npy header has the unknown key '", key,
                    "' (expected descr, fortran_order, shape)");
      }
      skip_space();
      if (take(',')) continue;
      MTINET_CHECK(take('}'), "'", source_, "': .npy header dict is malformed after the '", key, "' entry: ",
                   excerpt(s_));
      break;
    }
    skip_space();
    MTINET_CHECK(pos_ == s_.size(), "'", source_, "': .npy header has text after the dict: ", excerpt(s_));
    MTINET_CHECK(has_descr, "'", source_, "': .npy header has no valid 'descr' entry: ", excerpt(s_));
    MTINET_CHECK(has_fortran, "'", source_, "': .npy header has no valid 'fortran_order' entry: ", excerpt(s_));
    MTINET_CHECK(has_shape, "'", source_, "': .npy header has no valid 'shape' entry: ", excerpt(s_));
    return h;
  }

 private:
  bool take(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool take(const char* word) {
    size_t n = std::strlen(word);
    if (s_.compare(pos_, n, word) != 0) return false;
    pos_ += n;
    return true;
  }
  void skip_space() {
    while (pos_ < s_.size() && is_space(s_[pos_])) ++pos_;
  }

  std::string string_literal(const char* what) {
    char quote = pos_ < s_.size() ? s_[pos_] : '\0';
    MTINET_CHECK(quote == '\'' || quote == '"', "'", source_, "': .npy header should have ", what, " at byte ", pos_,
                 ": ", excerpt(s_));
    size_t end = s_.find(quote, pos_ + 1);
    MTINET_CHECK(end != std::string::npos, "'", source_, "': .npy header has an unterminated string: ", excerpt(s_));
    std::string out = s_.substr(pos_ + 1, end - pos_ - 1);
    pos_ = end + 1;
    return out;
  }

  bool boolean(const std::string& key) {
    if (take("True")) return true;
    if (take("False")) return false;
    MTINET_FAIL("'", source_, "': .npy header '", key, "' should be True or False: ", excerpt(s_));
  }

  // descr: '<f4' and the like; a list here is a structured dtype.
  void read_descr(NpyHeader& h) {
    MTINET_CHECK(pos_ >= s_.size() || s_[pos_] != '[', "'", source_, "': unsupported .npy dtype (structured arrays "
                 "are not supported): ", excerpt(s_));
    std::string d = string_literal("the dtype string");
    bool ok = d.size() >= 3 && d.size() <= 4 && std::strchr("<>|=", d[0]) && std::strchr("fiub", d[1]);
    for (size_t i = 2; ok && i < d.size(); ++i) ok = is_digit(d[i]);
    MTINET_CHECK(ok, "'", source_, "': unsupported .npy dtype '", excerpt(d), "' (structured or non-numeric arrays "
                 "are not supported)");
    h.endian = d[0] == '=' ? '<' : d[0];
    h.kind = d[1];
    h.item_size = std::stoi(d.substr(2));  // at most two digits: cannot overflow
  }

  // shape: a tuple of non-negative integers, "()" for a scalar, "(5,)" for rank 1.
  Shape shape() {
    size_t start = pos_;
    auto bad = [&](const std::string& why) {
      size_t close = s_.find(')', start);
      std::string text = s_.substr(start, close == std::string::npos ? 40 : close - start + 1);
      MTINET_FAIL("'", source_, "': bad .npy shape ", excerpt(text), ": ", why);
    };
    if (!take('(')) bad("not a tuple");
    Shape out;
    for (;;) {
      skip_space();
      if (take(')')) break;
      if (pos_ >= s_.size() || !is_digit(s_[pos_])) {
        bad("expected a non-negative integer at byte " + std::to_string(pos_));
      }
      uint64_t v = 0;
      for (; pos_ < s_.size() && is_digit(s_[pos_]); ++pos_) {
        if (__builtin_mul_overflow(v, uint64_t(10), &v) || __builtin_add_overflow(v, uint64_t(s_[pos_] - '0'), &v) ||
            v > uint64_t(std::numeric_limits<int64_t>::max())) {
          bad("a dimension does not fit in 64 bits");
        }
      }
      out.push_back(int64_t(v));
      skip_space();
      if (take(',')) continue;
      if (!take(')')) bad("expected ',' or ')' at byte " + std::to_string(pos_));
      break;
    }
    return out;
  }

  const std::string& s_;
  const std::string& source_;
  size_t pos_ = 0;
};

}  // namespace

NpyHeader parse_npy_header(const std::string& text, const std::string& source) {
  return DictParser(text, source).parse();
}

}  // namespace mtinet
