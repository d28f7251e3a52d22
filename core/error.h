// Errors: library code throws mtinet::Error with a message that says what was wrong and where.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace mtinet {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] void throw_error(const char* file, int line, const std::string& msg);

// The message without the "core/tensor.cpp:30: " locations throw_error put in (nested errors carry several): what a
// user of the command line reads. The locations help whoever debugs the library, so the CLI keeps them when the
// environment variable MTINET_ERROR_LOCATIONS=1 is set.
std::string without_source_locations(const std::string& message);

namespace detail {
template <class... Args>
std::string concat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
}  // namespace detail

}  // namespace mtinet

// MTINET_CHECK(cond, parts...): throws mtinet::Error("file:line: parts...") when cond is false.
#define MTINET_CHECK(cond, ...)                                                    \
  do {                                                                             \
    if (!(cond)) ::mtinet::throw_error(__FILE__, __LINE__, ::mtinet::detail::concat(__VA_ARGS__)); \
  } while (0)

#define MTINET_FAIL(...) ::mtinet::throw_error(__FILE__, __LINE__, ::mtinet::detail::concat(__VA_ARGS__))
