#include "train/config_checks.h"

#include <cmath>
#include <sstream>
#include <type_traits>

#include "core/error.h"

namespace mtinet::config {

namespace {

std::string format_bound(double x) {
  std::ostringstream os;
  os << x;
  return os.str();
}

// The value as the user wrote it (near enough), shortened so a misplaced object does not flood the message.
std::string shown(const nlohmann::json& v) {
  if (v.is_number_float() && !std::isfinite(v.get<double>())) return format_bound(v.get<double>());  // dump: "null"
  std::string s = v.dump();
  return s.size() <= 60 ? s : s.substr(0, 57) + "...";
}

[[noreturn]] void wrong_type(const nlohmann::json& v, const Key& k, const std::string& expected) {
  MTINET_FAIL(k.where(), " has the wrong type: expected ", expected, ", got ", shown(v));
}

[[noreturn]] void out_of_range(const nlohmann::json& v, const Key& k, const std::string& expected,
                               const std::string& note = "") {
  MTINET_FAIL(k.where(), " must be ", expected, ", got ", shown(v), note.empty() ? "" : " (" + note + ")");
}

// v as a non-empty array, else an error saying a list of `integer ? integers : numbers` in r was expected.
const nlohmann::json& non_empty_list(const nlohmann::json& v, const Key& k, const Range& r, bool integer) {
  if (!v.is_array()) wrong_type(v, k, expected(r, integer, /*list=*/true));
  if (v.empty()) out_of_range(v, k, expected(r, integer, /*list=*/true));
  return v;
}

}  // namespace

Range Range::from(double lo, bool open) const {
  Range r = *this;
  r.lo_ = lo;
  r.lo_open_ = open;
  return r;
}

Range Range::to(double hi, bool open) const {
  Range r = *this;
  r.hi_ = hi;
  r.hi_open_ = open;
  return r;
}

bool Range::contains(double v) const {
  return std::isfinite(v) && (lo_open_ ? v > lo_ : v >= lo_) && (hi_open_ ? v < hi_ : v <= hi_);
}

std::string Range::describe() const {
  std::string lower = std::isinf(lo_) ? "" : (lo_open_ ? "> " : ">= ") + format_bound(lo_);
  std::string upper = std::isinf(hi_) ? "" : (hi_open_ ? "< " : "<= ") + format_bound(hi_);
  if (lower.empty() || upper.empty()) return lower + upper;
  return lower + " and " + upper;
}

std::string expected(const Range& r, bool integer, bool list) {
  std::string kind = integer ? (list ? "integers" : "an integer") : (list ? "finite numbers" : "a finite number");
  std::string range = r.describe();
  return (list ? "a non-empty list of " : "") + kind + (range.empty() ? "" : " " + range);
}

std::string type_with_article(const nlohmann::json& v) {
  if (v.is_null()) return "null";
  std::string t = v.type_name();
  return (t == "array" || t == "object" ? "an " : "a ") + t;
}

double number(const nlohmann::json& v, const Key& k, const Range& r) {
  if (!v.is_number()) wrong_type(v, k, expected(r, false));
  double d = v.get<double>();
  if (!r.contains(d)) out_of_range(v, k, expected(r, false));
  return d;
}

template <class T>
T integer(const nlohmann::json& v, const Key& k, const Range& r) {
  static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>, "integer() reads integer types");
  std::string want = expected(r, true);
  if (!v.is_number()) wrong_type(v, k, want);
  double d = v.get<double>();
  if (!r.contains(d) || (v.is_number_float() && d != std::trunc(d))) out_of_range(v, k, want);
  // T may hold less than the JSON number (int from 1e10, uint64_t from a negative): compare before converting.
  bool fits;
  if (v.is_number_unsigned()) {
    fits = v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<T>::max());
  } else if (v.is_number_integer()) {
    int64_t i = v.get<int64_t>();
    if constexpr (std::is_signed_v<T>) fits = i >= std::numeric_limits<T>::min() && i <= std::numeric_limits<T>::max();
    else fits = i >= 0;
  } else {
    double limit = std::ldexp(1.0, std::numeric_limits<T>::digits);  // 2^63 for int64_t, 2^64 for uint64_t
    fits = d < limit && d >= (std::is_signed_v<T> ? -limit : 0.0);
  }
  if (!fits) out_of_range(v, k, want, "more than a " + std::to_string(8 * sizeof(T)) + "-bit integer holds");
  if (v.is_number_unsigned()) return static_cast<T>(v.get<uint64_t>());
  if (v.is_number_integer()) return static_cast<T>(v.get<int64_t>());
  return static_cast<T>(d);
}

std::vector<double> numbers(const nlohmann::json& v, const Key& k, const Range& r) {
  const nlohmann::json& list = non_empty_list(v, k, r, /*integer=*/false);
  std::vector<double> out;
  for (size_t i = 0; i < list.size(); ++i) out.push_back(number(list[i], k.element(i), r));
  return out;
}

template <class T>
std::vector<T> integers(const nlohmann::json& v, const Key& k, const Range& r) {
  const nlohmann::json& list = non_empty_list(v, k, r, /*integer=*/true);
  std::vector<T> out;
  for (size_t i = 0; i < list.size(); ++i) out.push_back(integer<T>(list[i], k.element(i), r));
  return out;
}

// The integer types configs use.
template int integer<int>(const nlohmann::json&, const Key&, const Range&);
template int64_t integer<int64_t>(const nlohmann::json&, const Key&, const Range&);
template uint64_t integer<uint64_t>(const nlohmann::json&, const Key&, const Range&);
template std::vector<int64_t> integers<int64_t>(const nlohmann::json&, const Key&, const Range&);

}  // namespace mtinet::config
