// Range checks for numeric config values: one place that reads a JSON number, checks it against the key's allowed
// range and words the error, so every key's message names the config, the key, the value and the range the same way:
//   config runs/x.json: 'batch_size' must be an integer >= 1, got 2.5
#pragma once
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mtinet::config {

// The numbers a key accepts: an interval whose ends may be open, closed or absent. Values must also be finite.
class Range {
 public:
  static Range any() { return {}; }
  static Range at_least(double lo) { return Range().from(lo, false); }
  static Range above(double lo) { return Range().from(lo, true); }
  static Range closed(double lo, double hi) { return at_least(lo).to(hi, false); }
  static Range half_open(double lo, double hi) { return at_least(lo).to(hi, true); }  // [lo, hi)
  static Range above_up_to(double lo, double hi) { return above(lo).to(hi, false); }  // (lo, hi]

  bool contains(double v) const;
  // ">= 1", "> 0 and <= 10", "" for any().
  std::string describe() const;

 private:
  Range from(double lo, bool open) const;
  Range to(double hi, bool open) const;

  double lo_ = -std::numeric_limits<double>::infinity(), hi_ = std::numeric_limits<double>::infinity();
  bool lo_open_ = false, hi_open_ = false;
};

// How a value is named in messages: `config` says which config ("config" or "config FILE"), `key` the key path as
// the user writes it in JSON or --set ("optimizer.lr", "data.scales[1]").
struct Key {
  std::string config, key;
  Key element(size_t i) const { return {config, key + "[" + std::to_string(i) + "]"}; }
  std::string where() const { return config + ": '" + key + "'"; }  // how messages about the value start
};

// What a key accepts, for messages: "a finite number > 0 and <= 10", "an integer >= 1", or with list = true
// "a non-empty list of finite numbers > 0".
std::string expected(const Range& r, bool integer, bool list = false);
// "an array", "a string", "null": a JSON value's type with its article.
std::string type_with_article(const nlohmann::json& v);

// v as a finite number in r; anything else throws naming the key, the value and the range.
double number(const nlohmann::json& v, const Key& k, const Range& r);
// v as an integer of type T (int, int64_t or uint64_t) in r. A fractional value (2.5) is refused rather than
// truncated; integral floats (2.0, 1e3) are integers, as nlohmann read them before these checks existed.
template <class T>
T integer(const nlohmann::json& v, const Key& k, const Range& r);

// v as a non-empty list of finite numbers, each in r.
std::vector<double> numbers(const nlohmann::json& v, const Key& k, const Range& r);
// v as a non-empty list of integers, each in r.
template <class T>
std::vector<T> integers(const nlohmann::json& v, const Key& k, const Range& r);

}  // namespace mtinet::config
