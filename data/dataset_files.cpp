#include "data/dataset_files.h"

#include <fstream>

#include "core/error.h"
#include "core/file_io.h"
#include "data/image.h"

namespace mtinet {

std::vector<std::string> read_split_ids(const std::string& path, const std::string& dataset, const std::string& hint) {
  std::ifstream f(path);
  MTINET_CHECK(f.good(), dataset, " split file '", path, "' not found (", hint, ")");
  std::vector<std::string> ids;
  for (std::string line; std::getline(f, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) ids.push_back(line);
  }
  MTINET_CHECK(!ids.empty(), dataset, " split file '", path, "' lists no images");
  return ids;
}

std::string find_image(const std::string& dir, const std::string& id, const std::string& dataset) {
  for (const char* ext : {".jpg", ".png"}) {
    std::string p = dir + "/" + id + ext;
    if (file_exists(p)) return p;
  }
  MTINET_FAIL(dataset, ": missing image '", dir, "/", id, ".jpg' (or .png)");
}

Tensor load_sample_image(const std::string& path) {
  Tensor img = load_image(path, 3);
  MTINET_CHECK(img.dtype() == DType::U8, "'", path, "' must be an 8-bit image");
  return img.to(DType::F32);
}

}  // namespace mtinet
