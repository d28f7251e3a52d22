#include "tools/args.h"

#include <algorithm>

#include "core/error.h"

namespace mtinet {

Args::Args(const std::vector<std::string>& argv, const std::vector<std::string>& known,
           const std::vector<std::string>& flags) {
  auto is = [](const std::vector<std::string>& v, const std::string& k) {
    return std::find(v.begin(), v.end(), k) != v.end();
  };
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.rfind("--", 0) != 0) {
      positional_.push_back(a);
      continue;
    }
    std::string key = a.substr(2), value;
    size_t eq = key.find('=');
    bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = key.substr(eq + 1);
      key = key.substr(0, eq);
    }
    if (is(flags, key)) {
      MTINET_CHECK(!inline_value, "option --", key, " takes no value");
      values_.emplace(key, "1");
      continue;
    }
    MTINET_CHECK(is(known, key), "unknown option --", key);
    if (!inline_value) {
      MTINET_CHECK(i + 1 < argv.size(), "option --", key, " needs a value");
      value = argv[++i];
    }
    values_.emplace(key, value);
  }
}

std::string Args::get(const std::string& key, const std::string& fallback) const {
  auto it = values_.find(key);
  return it == values_.end() ? fallback : it->second;
}

std::string Args::require(const std::string& key) const {
  auto it = values_.find(key);
  MTINET_CHECK(it != values_.end(), "missing required option --", key);
  return it->second;
}

long long Args::get_int(const std::string& key, long long fallback) const {
  if (!has(key)) return fallback;
  std::string v = get(key, "");
  try {
    size_t used = 0;
    long long x = std::stoll(v, &used);
    if (used == v.size()) return x;
  } catch (...) {
  }
  MTINET_FAIL("option --", key, " expects an integer, got '", v, "'");
}

double Args::get_double(const std::string& key, double fallback) const {
  if (!has(key)) return fallback;
  std::string v = get(key, "");
  try {
    size_t used = 0;
    double x = std::stod(v, &used);
    if (used == v.size()) return x;
  } catch (...) {
  }
  MTINET_FAIL("option --", key, " expects a number, got '", v, "'");
}

std::vector<std::string> Args::all(const std::string& key) const {
  std::vector<std::string> out;
  auto [b, e] = values_.equal_range(key);
  for (auto it = b; it != e; ++it) out.push_back(it->second);
  return out;
}

std::pair<long long, long long> parse_size(const std::string& s) {
  size_t x = s.find('x');
  try {
    if (x != std::string::npos) {
      size_t u1 = 0, u2 = 0;
      long long h = std::stoll(s.substr(0, x), &u1), w = std::stoll(s.substr(x + 1), &u2);
      if (u1 == x && u2 == s.size() - x - 1 && h > 0 && w > 0) return {h, w};
    }
  } catch (...) {
  }
  MTINET_FAIL("bad size '", s, "' (expected HxW, e.g. 480x640)");
}

}  // namespace mtinet
