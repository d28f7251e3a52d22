#include "core/error.h"

#include <cstring>

namespace mtinet {

void throw_error(const char* file, int line, const std::string& msg) {
  // Keep only the path from the project root so messages stay short and stable across checkouts.
  const char* rel = file;
  for (const char* dir : {"/core/", "/kernels/", "/layers/", "/model/", "/train/", "/data/", "/tools/", "/tests/"}) {
    if (const char* p = std::strstr(file, dir)) { rel = p + 1; break; }
  }
  throw Error(std::string(rel) + ":" + std::to_string(line) + ": " + msg);
}

}  // namespace mtinet
