// A small command-line option parser shared by the mtinet subcommands: --key value, --key=value and --flag.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace mtinet {

class Args {
 public:
  // known: option names without dashes; flags: options that take no value. Unknown options throw.
  Args(const std::vector<std::string>& argv, const std::vector<std::string>& known,
       const std::vector<std::string>& flags = {});
  bool has(const std::string& key) const { return values_.count(key) > 0; }
  std::string get(const std::string& key, const std::string& fallback) const;
  std::string require(const std::string& key) const;  // throws naming the missing option
  long long get_int(const std::string& key, long long fallback) const;
  double get_double(const std::string& key, double fallback) const;
  // Every value given for a repeatable option (e.g. --set a=1 --set b=2).
  std::vector<std::string> all(const std::string& key) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::multimap<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

// "480x640" -> {480, 640}; throws on anything else.
std::pair<long long, long long> parse_size(const std::string& s);

}  // namespace mtinet
