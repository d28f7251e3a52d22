#include "core/error.h"

#include <cstring>
#include <regex>

namespace mtinet {

void throw_error(const char* file, int line, const std::string& msg) {
  // Keep only the path from the project root so messages stay short and stable across checkouts.
  const char* rel = file;
  for (const char* dir : {"/core/", "/kernels/", "/layers/", "/model/", "/train/", "/data/", "/tools/", "/tests/"}) {
    if (const char* p = std::strstr(file, dir)) { rel = p + 1; break; }
  }
  throw Error(std::string(rel) + ":" + std::to_string(line) + ": " + msg);
}

std::string without_source_locations(const std::string& message) {
  // The folders throw_error's locations start with (the path from the project root), a source file and a line.
  static const std::regex location(
      R"((core|kernels|layers|model|train|data|tools|tests)/[A-Za-z0-9_./-]+\.(cpp|h|cu|cuh):[0-9]+: )");
  return std::regex_replace(message, location, "");
}

}  // namespace mtinet
