#include "core/file_io.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sys/stat.h>

#include "core/error.h"

namespace mtinet {

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  MTINET_CHECK(f.good(), "cannot open '", path, "': ", std::strerror(errno));
  std::streamsize n = f.tellg();
  MTINET_CHECK(n >= 0, "cannot read '", path, "'");
  std::vector<uint8_t> bytes(static_cast<size_t>(n));
  f.seekg(0);
  MTINET_CHECK(f.read(reinterpret_cast<char*>(bytes.data()), n), "short read from '", path, "'");
  return bytes;
}

void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write) {
  const std::string tmp = path + ".tmp";
  struct RemoveUnlessRenamed {
    const std::string& file;
    bool renamed = false;
    ~RemoveUnlessRenamed() {
      if (!renamed) std::remove(file.c_str());
    }
  } cleanup{tmp};
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    MTINET_CHECK(f.good(), "cannot create '", tmp, "' for '", path, "': ", std::strerror(errno));
    write(f);
    f.close();
    MTINET_CHECK(!f.fail(), "writing '", tmp, "' failed (disk full?): ", std::strerror(errno));
  }
  MTINET_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, "cannot rename '", tmp, "' to '", path, "': ",
               std::strerror(errno));
  cleanup.renamed = true;
}

void write_file_atomic(const std::string& path, const void* data, size_t size) {
  write_file_atomic(path, [&](std::ostream& out) { out.write(static_cast<const char*>(data), std::streamsize(size)); });
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace mtinet
