// Joining names for messages and metadata, e.g. the tasks of a model: join(names, ", ") = "semseg, depth".
#pragma once
#include <string>

namespace mtinet {

// The items of any range of strings, in order, with `separator` between them ("" for none).
template <class Range>
std::string join(const Range& items, const std::string& separator) {
  std::string out;
  bool first = true;
  for (const std::string& item : items) {
    if (!first) out += separator;
    out += item;
    first = false;
  }
  return out;
}

}  // namespace mtinet
