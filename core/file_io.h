// Whole-file reads and atomic writes with errors that name the file.
#pragma once
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace mtinet {

std::vector<uint8_t> read_file_bytes(const std::string& path);
// Writes to path + ".tmp" then renames, so readers never see a half-written file; on any failure the .tmp file
// is removed and an Error names the file. `write` streams the contents (large files need not be built in memory).
void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write);
void write_file_atomic(const std::string& path, const void* data, size_t size);
bool file_exists(const std::string& path);

}  // namespace mtinet
