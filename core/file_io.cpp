#include "core/file_io.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/fault_injection.h"

namespace mtinet {

namespace fs = std::filesystem;

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

namespace {
// fsync of a written file, or of a folder after a rename in it (which makes the rename itself durable).
void sync_to_disk(const std::string& path, bool folder) {
  int fd = ::open(path.c_str(), folder ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  if (fd < 0) {
    MTINET_CHECK(folder, "cannot reopen '", path, "' to sync it: ", std::strerror(errno));
    return;  // a folder we may not open (no read permission): the rename is still atomic, only not yet durable
  }
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  // Folders on some file systems refuse fsync (EINVAL); a file that cannot be synced may not be on disk.
  MTINET_CHECK(rc == 0 || folder, "cannot sync '", path, "' to disk: ", std::strerror(err));
}
}  // namespace

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
  // On disk before the rename makes it visible: after a power loss the name must not point at unwritten blocks.
  sync_to_disk(tmp, false);
  fault_point("atomic_write.before_rename");
  MTINET_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, "cannot rename '", tmp, "' to '", path, "': ",
               std::strerror(errno));
  cleanup.renamed = true;
  sync_to_disk(fs::path(path).parent_path().empty() ? "." : fs::path(path).parent_path().string(), true);
}

void write_file_atomic(const std::string& path, const void* data, size_t size) {
  write_file_atomic(path, [&](std::ostream& out) { out.write(static_cast<const char*>(data), std::streamsize(size)); });
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace mtinet
