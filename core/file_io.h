// Whole-file reads and atomic writes with errors that name the file.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace mtinet {

std::vector<uint8_t> read_file_bytes(const std::string& path);
// Writes to path + ".tmp" then renames, so readers never see a half-written file.
void write_file_atomic(const std::string& path, const void* data, size_t size);
bool file_exists(const std::string& path);

}  // namespace mtinet
