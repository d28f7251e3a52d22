#include "data/dataset_files.h"

#include <fstream>

#include "core/error.h"
#include "core/file_io.h"
#include "data/image.h"

namespace mtinet {

namespace {
// An id becomes part of file names (<root>/images/<id>.png): one that could name a file outside the dataset
// ('..', a path separator), hold bytes no file name has (control characters, NUL) or exceed a file name's length is
// refused, naming the split file and the line. A binary file passed as a split list fails here too.
void check_id(const std::string& id, const std::string& dataset, const std::string& path, int64_t line) {
  auto fail = [&](const std::string& why) {
    MTINET_FAIL(dataset, " split file '", path, "', line ", line, ": ", why,
                " (an id names the sample's files, e.g. images/<id>.png)");
  };
  if (id.size() > 200) fail("an id of " + std::to_string(id.size()) + " bytes is longer than a file name may be");
  for (char c : id) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) fail("the id holds a control character (byte " + std::to_string(int(u)) + ")");
    if (c == '/' || c == '\\') fail("the id '" + id + "' holds a path separator");
  }
  if (id == "." || id == "..") fail("the id '" + id + "' names a folder");
}
}  // namespace

std::vector<std::string> read_split_ids(const std::string& path, const std::string& dataset, const std::string& hint) {
  std::ifstream f(path);
  MTINET_CHECK(f.good(), dataset, " split file '", path, "' not found (", hint, ")");
  std::vector<std::string> ids;
  int64_t number = 0;
  for (std::string line; std::getline(f, line);) {
    ++number;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty()) continue;
    check_id(line, dataset, path, number);
    ids.push_back(line);
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
